package bot

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseCommand: any message body parses or not without a panic; a command has a
// lowercase name without spaces, its arguments come from the first line only, and a
// "bang" command is one that starts with "!".
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{"!ready", "accept", "!invite @carol:example.com", "!monitor #12\n> quoted", "", "!", "  !  x", "ÄCCEPT"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, ok := ParseCommand(body)
		if ok {
			if cmd.Name == "" || cmd.Name != strings.ToLower(cmd.Name) {
				t.Fatalf("bad name %q from %q", cmd.Name, body)
			}
			if strings.ContainsAny(cmd.Name, " \t\n") {
				t.Fatalf("name %q has spaces", cmd.Name)
			}
			for _, a := range cmd.Args {
				if strings.Contains(a, "\n") {
					t.Fatalf("argument %q from a later line", a)
				}
			}
		}
		if _, bang := ParseBangCommand(body); bang && !strings.HasPrefix(strings.TrimSpace(body), "!") {
			t.Fatalf("%q taken as a ! command", body)
		}
	})
}

// FuzzParseOffer: any poll response content or reaction key on an offer is read or
// ignored without a panic, and a vote that is read names the poll it answers.
func FuzzParseOffer(f *testing.F) {
	f.Add([]byte(`{"m.relates_to":{"rel_type":"m.reference","event_id":"$p"},"org.matrix.msc3381.poll.response":{"answers":["accept"]}}`), "✅")
	f.Add([]byte(`{"m.selections":["decline"],"m.relates_to":{"event_id":"$p"}}`), "❌️")
	f.Add([]byte(`{"m.relates_to":5}`), "")
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		var content map[string]any
		if json.Unmarshal(raw, &content) == nil {
			if poll, _, ok := ParseOfferVote(content); ok && poll == "" {
				t.Fatal("a vote read without the poll it answers")
			}
		}
		_, _ = ParseOfferReaction(key)
	})
}
