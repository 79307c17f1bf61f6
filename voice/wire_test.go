package voice

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEncodeSendsVersionStringAndFields(t *testing.T) {
	typ, raw, err := Encode(&Invite{
		Common:         Common{CallID: "c1", PartyID: "p1"},
		Offer:          SessionDescription{Type: "offer", SDP: "v=0"},
		Lifetime:       60000,
		Invitee:        "@carol:hs",
		StreamMetadata: map[string]StreamMetadata{"s1": {Purpose: PurposeUserMedia, VideoMuted: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"call_id":"c1","party_id":"p1","version":"1","offer":{"type":"offer","sdp":"v=0"},"lifetime":60000,` +
		`"invitee":"@carol:hs","sdp_stream_metadata":{"s1":{"purpose":"m.usermedia","audio_muted":false,"video_muted":true}}}`
	if typ != TypeInvite || string(raw) != want {
		t.Errorf("got %s %s\nwant %s", typ, raw, want)
	}
	if _, _, err := Encode(&Hangup{Reason: ReasonUserHangup}); err == nil {
		t.Error("a call event without call_id was encoded")
	}
}

func TestParseTolerance(t *testing.T) {
	cases := []struct {
		name, typ, content string
		check              func(Message) bool
		err                bool
	}{
		{"version number 1", TypeHangup, `{"call_id":"c","version":1,"reason":"user_busy"}`,
			func(m Message) bool { return m.(*Hangup).Version == "1" && m.(*Hangup).Reason == ReasonUserBusy }, false},
		{"version 0 number, no party", TypeHangup, `{"call_id":"c","version":0}`,
			func(m Message) bool { return m.(*Hangup).Version == "0" && m.(*Hangup).Reason == ReasonUserHangup }, false},
		{"version string", TypeReject, `{"call_id":"c","party_id":"p","version":"1"}`,
			func(m Message) bool { return PartyID(m) == "p" && m.(*Reject).Version == "1" }, false},
		{"missing version", TypeReject, `{"call_id":"c"}`, func(m Message) bool { return m.(*Reject).Version == "0" }, false},
		{"version object", TypeReject, `{"call_id":"c","version":{}}`, nil, true},
		{"negative version", TypeReject, `{"call_id":"c","version":-1}`, nil, true},
		{"no call_id", TypeHangup, `{"version":"1"}`, nil, true},
		{"unknown reason", TypeHangup, `{"call_id":"c","version":"1","reason":"replaced"}`,
			func(m Message) bool { return m.(*Hangup).Reason == ReasonUnknownError }, false},
		{"unstable metadata", TypeInvite, `{"call_id":"c","version":"1","offer":{"type":"offer","sdp":"v=0"},"lifetime":30000,` +
			`"org.matrix.msc3077.sdp_stream_metadata":{"s":{"purpose":"m.usermedia"}}}`,
			func(m Message) bool {
				i := m.(*Invite)
				return i.StreamMetadata["s"].Purpose == PurposeUserMedia && i.Lifetime == 30000
			}, false},
		{"stable metadata wins", TypeAnswer, `{"call_id":"c","version":"1","answer":{"type":"answer","sdp":"v=0"},` +
			`"sdp_stream_metadata":{"a":{"purpose":"m.usermedia"}},"org.matrix.msc3077.sdp_stream_metadata":{"b":{"purpose":"m.usermedia"}}}`,
			func(m Message) bool {
				_, b := m.(*Answer).StreamMetadata["b"]
				return !b && len(m.(*Answer).StreamMetadata) == 1
			}, false},
		{"invite default lifetime", TypeInvite, `{"call_id":"c","version":"1","offer":{"type":"offer","sdp":"v=0"}}`,
			func(m Message) bool { return m.(*Invite).Lifetime == DefaultLifetime }, false},
		{"invite without sdp", TypeInvite, `{"call_id":"c","version":"1","offer":{"type":"offer"}}`, nil, true},
		{"invite with an answer", TypeInvite, `{"call_id":"c","version":"1","offer":{"type":"answer","sdp":"v=0"}}`, nil, true},
		{"huge sdp", TypeAnswer, `{"call_id":"c","answer":{"type":"answer","sdp":"` + strings.Repeat("a", maxSDP+1) + `"}}`, nil, true},
		{"negotiate bad type", TypeNegotiate, `{"call_id":"c","description":{"type":"pranswer","sdp":"v=0"}}`, nil, true},
		{"candidates", TypeCandidates, `{"call_id":"c","version":"1","candidates":[{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0},{"candidate":""}]}`,
			func(m Message) bool {
				cs := m.(*Candidates).Candidates
				return len(cs) == 2 && *cs[0].SDPMid == "0" && cs[1].Candidate == "" && cs[1].SDPMid == nil
			}, false},
		{"select answer", TypeSelectAnswer, `{"call_id":"c","version":"1","party_id":"x","selected_party_id":"y"}`,
			func(m Message) bool { return m.(*SelectAnswer).SelectedPartyID == "y" }, false},
		{"not json", TypeHangup, `{`, nil, true},
	}
	for _, c := range cases {
		m, err := Parse(c.typ, []byte(c.content))
		if (err != nil) != c.err {
			t.Errorf("%s: err %v", c.name, err)
			continue
		}
		if err == nil && !c.check(m) {
			t.Errorf("%s: parsed %+v", c.name, m)
		}
	}
	if _, err := Parse("m.room.message", []byte(`{}`)); err != ErrNotCall {
		t.Errorf("a room message parsed as a call event: %v", err)
	}
}

func TestMatrixRTCAttempt(t *testing.T) {
	cases := []struct {
		typ, content string
		want         bool
	}{
		{"m.rtc.notification", `{"notification_type":"ring"}`, true},
		{"org.matrix.msc4075.rtc.notification", `{}`, true},
		{"org.matrix.msc3401.call.member", `{"application":"m.call","call_id":"","device_id":"D","focus_active":{}}`, true},
		{"org.matrix.msc3401.call.member", `{}`, false},
		{"org.matrix.msc3401.call.member", `{"leave_reason":"lost_connection"}`, false},
		{"m.call.invite", `{}`, false},
		{"m.room.message", `{"body":"hi"}`, false},
	}
	for _, c := range cases {
		if got := IsMatrixRTCAttempt(c.typ, []byte(c.content)); got != c.want {
			t.Errorf("%s %s: %v", c.typ, c.content, got)
		}
	}
}

func TestCandidateBatcher(t *testing.T) {
	var mu sync.Mutex
	var batches [][]Candidate
	b := NewCandidateBatcher(50*time.Millisecond, func(c []Candidate) {
		mu.Lock()
		batches = append(batches, c)
		mu.Unlock()
	})
	get := func() [][]Candidate {
		mu.Lock()
		defer mu.Unlock()
		return append([][]Candidate{}, batches...)
	}
	b.Add(Candidate{Candidate: "a"})
	b.Add(Candidate{Candidate: "b"})
	time.Sleep(100 * time.Millisecond)
	if n := len(get()); n != 0 {
		t.Fatalf("a held batcher sent %d batches", n)
	}
	b.Release()
	if g := get(); len(g) != 1 || len(g[0]) != 2 {
		t.Fatalf("release sent %v", g)
	}
	b.Add(Candidate{Candidate: "c"})
	b.Add(Candidate{Candidate: "d"})
	if n := len(get()); n != 1 {
		t.Fatal("a batch went out before its delay")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(get()) != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.Add(Candidate{Candidate: "e"})
	b.End("0")
	g := get()
	if len(g) != 3 || len(g[1]) != 2 || len(g[2]) != 2 || g[2][1].Candidate != "" || *g[2][1].SDPMid != "0" {
		t.Fatalf("batches %v", g)
	}
	b.Stop()
	b.Add(Candidate{Candidate: "f"})
	b.End("0")
	time.Sleep(100 * time.Millisecond)
	if len(get()) != 3 {
		t.Fatal("a stopped batcher sent")
	}
}

func TestEncodeParseRoundTrip(t *testing.T) {
	mid, idx := "0", uint16(0)
	msgs := []Message{
		&Answer{Common: Common{CallID: "c", PartyID: "p"}, Answer: SessionDescription{Type: "answer", SDP: "v=0"}},
		&Candidates{Common: Common{CallID: "c", PartyID: "p"}, Candidates: []Candidate{{Candidate: "x", SDPMid: &mid, SDPMLineIndex: &idx}}},
		&Negotiate{Common: Common{CallID: "c", PartyID: "p"}, Description: SessionDescription{Type: "offer", SDP: "v=0"}, Lifetime: 1000},
		&SelectAnswer{Common: Common{CallID: "c", PartyID: "p"}, SelectedPartyID: "q"},
		&Reject{Common: Common{CallID: "c", PartyID: "p"}},
		&Hangup{Common: Common{CallID: "c", PartyID: "p"}, Reason: ReasonICEFailed},
	}
	for _, m := range msgs {
		typ, raw, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(typ, raw)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		a, _ := json.Marshal(m)
		b, _ := json.Marshal(back)
		if string(a) != string(b) || !strings.Contains(string(raw), `"version":"1"`) {
			t.Errorf("%s: %s became %s", typ, a, b)
		}
	}
}

func TestPromptBuiltin(t *testing.T) {
	p, err := loadPrompt(builtinPrompt)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.packets); n < 90 || n > 110 {
		t.Errorf("built-in prompt has %d packets of 20 ms, want about 2 s", n)
	}
	if _, err := loadPrompt([]byte("OggS not really")); err == nil {
		t.Error("a broken prompt was accepted")
	}
}
