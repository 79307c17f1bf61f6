package bridge

import (
	"encoding/json"
	"testing"
)

// A malformed to-device message, device list or key count costs nothing but itself:
// the transaction's events are still taken.
func TestDecodeTransactionSkipsBadExtensions(t *testing.T) {
	body := `{"events":[{"event_id":"$a","room_id":"!r:x","type":"m.room.message","content":{}}],
		"de.sorunome.msc2409.to_device":[{"type":"m.room.encrypted","content":"not an object"},{"type":"m.dummy","sender":"@a:x","content":{}}],
		"device_lists":{"changed":"not a list"},
		"org.matrix.msc3202.device_one_time_keys_count":[1,2]}`
	events, ext, skipped, err := decodeTransaction([]byte(body))
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if len(events) != 1 || len(ext.ToDeviceEvents) != 1 || skipped != 3 || ext.DeviceLists != nil || ext.DeviceOTKCount != nil {
		t.Fatalf("events %d, to-device %d, skipped %d, lists %v, otk %v", len(events), len(ext.ToDeviceEvents), skipped, ext.DeviceLists, ext.DeviceOTKCount)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"events":"x"}`, `{"events":[1,}`} {
		if _, _, _, err := decodeTransaction([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzDecodeTransaction: any body is decoded or refused without a panic, and a JSON
// object whose events are a list is never refused, whatever else it carries.
func FuzzDecodeTransaction(f *testing.F) {
	f.Add([]byte(`{"events":[]}`))
	f.Add([]byte(`{"events":[{"event_id":"$a","room_id":"!r:x","type":"m.room.message"}],"to_device":[{"type":"m.dummy"}]}`))
	f.Add([]byte(`{"events":[],"device_lists":{"changed":["@a:x"]},"device_one_time_keys_count":{"@a:x":{"D":{"signed_curve25519":5}}}}`))
	f.Add([]byte(`{"events":null,"de.sorunome.msc2409.to_device":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, _, _, err := decodeTransaction(body)
		var probe struct {
			Events []json.RawMessage `json:"events"`
		}
		if json.Unmarshal(body, &probe) == nil && err != nil {
			t.Fatalf("a transaction whose events are a list was refused: %v", err)
		}
		if err == nil && len(events) != len(probe.Events) {
			t.Fatalf("%d events decoded, the body has %d", len(events), len(probe.Events))
		}
	})
}

// FuzzParseEvent: whatever the inbox holds, reading it back never panics.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"event_id":"$a","room_id":"!r:x","type":"m.room.message","sender":"@a:x","content":{"msgtype":"m.text","body":"hi"}}`))
	f.Add([]byte(`{"event_id":"$a","room_id":"!r:x","type":"m.room.member","state_key":"@a:x","content":{"membership":"join"}}`))
	f.Add([]byte(`{"type":"m.reaction","content":{"m.relates_to":{"rel_type":"m.annotation","event_id":"$b","key":"1️⃣"}}}`))
	f.Add([]byte(`{"type":"m.room.encrypted","content":{"algorithm":"m.megolm.v1.aes-sha2","ciphertext":5}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = parseEvent(raw)
	})
}
