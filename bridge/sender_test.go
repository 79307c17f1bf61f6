package bridge

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/contactcenter/contactcenter/database"
)

// A relayed message that names no other event is sent exactly as it was queued:
// decoding and encoding it again would reorder its keys and round its large numbers.
func TestContentWithoutReferencesSentAsQueued(t *testing.T) {
	queued := json.RawMessage(`{"msgtype":"m.text","body":"hi","com.example.n":12345678901234567890}`)
	b := &Bridge{}
	got, err := b.translateRefs(context.Background(), &database.OutboxEntry{Content: queued, RefsFrom: "!dm:home.example"})
	if err != nil || string(got) != string(queued) {
		t.Fatalf("sent %s, %v; want it as queued", got, err)
	}
	for content, want := range map[string]bool{
		`{"body":"hi"}`: false,
		`{"body":"hi","m.relates_to":{"m.in_reply_to":{"event_id":"$a"}}}`: true,
		`{"redacts":"$a"}`:   true,
		`{"body":"redacts"}`: true, // only the full look can tell
	} {
		if mayRefer(json.RawMessage(content)) != want {
			t.Errorf("mayRefer(%s) = %v, want %v", content, !want, want)
		}
	}
}
