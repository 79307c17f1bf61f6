package voice

import (
	"encoding/json"
	"testing"
)

// FuzzParseCallEvent: Parse never panics, and whatever it accepts encodes and
// parses back to the same message.
func FuzzParseCallEvent(f *testing.F) {
	f.Add(TypeInvite, []byte(`{"call_id":"c","party_id":"p","version":"1","offer":{"type":"offer","sdp":"v=0"},"lifetime":60000,"invitee":"@a:b","org.matrix.msc3077.sdp_stream_metadata":{"s":{"purpose":"m.usermedia"}}}`))
	f.Add(TypeAnswer, []byte(`{"call_id":"c","version":0,"answer":{"type":"answer","sdp":"v=0"}}`))
	f.Add(TypeCandidates, []byte(`{"call_id":"c","version":1,"candidates":[{"candidate":"","sdpMid":"0","sdpMLineIndex":0}]}`))
	f.Add(TypeNegotiate, []byte(`{"call_id":"c","version":"1","description":{"type":"offer","sdp":"v=0"},"lifetime":1}`))
	f.Add(TypeHangup, []byte(`{"call_id":"c","version":"1","reason":"whatever"}`))
	f.Add(TypeSelectAnswer, []byte(`{"call_id":"c","selected_party_id":"x"}`))
	f.Add(TypeReject, []byte(`{"call_id":"c","version":1e3}`))
	f.Fuzz(func(t *testing.T, typ string, content []byte) {
		m, err := Parse(typ, content)
		if err != nil {
			return
		}
		if CallID(m) == "" {
			t.Fatal("accepted without call_id")
		}
		if h, ok := m.(*Hangup); ok && !h.Reason.Valid() {
			t.Fatalf("accepted reason %q", h.Reason)
		}
		typ2, raw, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(typ2, raw)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", raw, err)
		}
		a, _ := json.Marshal(m)
		b, _ := json.Marshal(back)
		if string(a) != string(b) {
			t.Fatalf("round trip changed %s into %s", a, b)
		}
		_ = IsMatrixRTCAttempt(typ, content)
	})
}
