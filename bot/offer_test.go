package bot

import "testing"

func TestOfferAnswers(t *testing.T) {
	vote := func(answers ...any) map[string]any {
		return map[string]any{
			"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": "$poll"},
			"org.matrix.msc3381.poll.response": map[string]any{"answers": answers},
		}
	}
	for _, tc := range []struct {
		content    map[string]any
		accept, ok bool
	}{
		{vote("accept"), true, true},
		{vote("decline"), false, true},
		{vote(), false, false},
		{vote("accept", "decline"), false, false},
		{vote("maybe"), false, false},
		{map[string]any{"m.selections": []any{"accept"}, "m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": "$poll"}}, true, true},
		{map[string]any{"org.matrix.msc3381.poll.response": map[string]any{"answers": []any{"accept"}}}, false, false}, // no poll named
	} {
		poll, accept, ok := ParseOfferVote(tc.content)
		if ok != tc.ok || accept != tc.accept || (ok && poll != "$poll") {
			t.Errorf("%v: %s %v %v", tc.content, poll, accept, ok)
		}
	}
	for key, want := range map[string][2]bool{"✅": {true, true}, "✅\ufe0f": {true, true}, "❌": {false, true}, "👍": {false, false}} {
		if accept, ok := ParseOfferReaction(key); accept != want[0] || ok != want[1] {
			t.Errorf("reaction %q: %v %v", key, accept, ok)
		}
	}
	if p := OfferPoll("Take conversation 4?"); p.Raw["body"] == nil || p.Parsed == nil {
		t.Error("the offer poll has no text fallback")
	}
}

func TestIsPromptReaction(t *testing.T) {
	for key, want := range map[string]bool{"1\ufe0f\u20e3": true, "9\u20e3": true, "✅": true, "❌": true, "📌": true, "👍": false, "1": false, "": false} {
		if IsPromptReaction(key) != want {
			t.Errorf("%q: want %v", key, want)
		}
	}
}
