package bot

import (
	"strings"
	"testing"
)

// TestFillCanned: placeholders come from the facts given; without a name (identity
// not shared) the name placeholders leave no trace, not even a stray space.
func TestFillCanned(t *testing.T) {
	text := "Hello {first_name}, I am {agent} from {business}. Thanks, {name}!"
	named := FillCanned(text, CannedFacts{Name: "Alice Liddell", Agent: "Carol", Business: "ACME"})
	if named != "Hello Alice, I am Carol from ACME. Thanks, Alice Liddell!" {
		t.Errorf("with a name: %q", named)
	}
	anonymous := FillCanned(text, CannedFacts{Agent: "Carol", Business: "ACME"})
	if anonymous != "Hello, I am Carol from ACME. Thanks!" {
		t.Errorf("without a name: %q", anonymous)
	}
	if got := FillCanned("Hi {first_name}\nDear {name} team, {agent}", CannedFacts{Agent: "Carol"}); got != "Hi\nDear team, Carol" {
		t.Errorf("lines: %q", got)
	}
}

func TestValidateCanned(t *testing.T) {
	for _, name := range []string{"greeting", "card-lost", "a1_b"} {
		if err := ValidateCannedName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "Greeting", "-x", "a b", strings.Repeat("a", MaxCannedName+1)} {
		if ValidateCannedName(name) == nil {
			t.Errorf("%q accepted", name)
		}
	}
	if err := ValidateCannedText("Hello {first_name} from {business}"); err != nil {
		t.Error(err)
	}
	for _, text := range []string{"", "  ", "Hi {email}", strings.Repeat("x", MaxCannedText+1)} {
		if ValidateCannedText(text) == nil {
			t.Errorf("%q accepted", text)
		}
	}
}

func TestParseWrapUp(t *testing.T) {
	codes := []string{"Resolved", "Resolved later", "Billing"}
	for _, c := range []struct {
		body  string
		index int
		note  string
		ok    bool
	}{
		{"1", 0, "", true}, {"3 asked about fees", 2, "asked about fees", true}, {"2.", 1, "", true},
		{"resolved", 0, "", true}, {"Resolved later he will call", 1, "he will call", true}, {"billing", 2, "", true},
		{"4", 0, "", false}, {"0", 0, "", false}, {"hello", 0, "", false}, {"", 0, "", false},
	} {
		index, note, ok := ParseWrapUpText(c.body, codes)
		if ok != c.ok || (ok && (index != c.index || note != c.note)) {
			t.Errorf("%q: %d %q %v, want %d %q %v", c.body, index, note, ok, c.index, c.note, c.ok)
		}
	}
	vote := map[string]any{"m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": "$poll"},
		"org.matrix.msc3381.poll.response": map[string]any{"answers": []any{"code2"}}}
	if poll, index, ok := ParseWrapUpVote(vote, len(codes)); !ok || poll != "$poll" || index != 1 {
		t.Errorf("vote: %s %d %v", poll, index, ok)
	}
	vote["org.matrix.msc3381.poll.response"] = map[string]any{"answers": []any{"code9"}}
	if _, _, ok := ParseWrapUpVote(vote, len(codes)); ok {
		t.Error("a vote for no code was taken")
	}
	poll := WrapUpPoll(7, codes)
	if !strings.Contains(poll.Raw["body"].(string), "3. Billing") {
		t.Errorf("poll fallback: %v", poll.Raw["body"])
	}
}

func TestParseSurvey(t *testing.T) {
	for body, want := range map[string]int{"4": 4, " 5 ": 5, "3/5": 3, "2 stars": 2, "1 star": 1, "4️⃣": 4, "⭐⭐⭐": 3, "5!": 5} {
		if got, ok := ParseSurveyText(body); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", body, got, ok, want)
		}
	}
	for _, body := range []string{"6", "0", "45", "4 cards", "I have 3 cards", "⭐⭐⭐⭐⭐⭐", ""} {
		if got, ok := ParseSurveyText(body); ok {
			t.Errorf("%q taken as %d", body, got)
		}
	}
	vote := map[string]any{"m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": "$s"},
		"org.matrix.msc3381.poll.response": map[string]any{"answers": []any{"rating5"}}}
	if poll, rating, ok := ParseSurveyVote(vote); !ok || poll != "$s" || rating != 5 {
		t.Errorf("vote: %s %d %v", poll, rating, ok)
	}
	vote["org.matrix.msc3381.poll.response"] = map[string]any{"answers": []any{"code1"}}
	if _, _, ok := ParseSurveyVote(vote); ok {
		t.Error("a wrap-up answer was taken as a rating")
	}
}

func TestReplacement(t *testing.T) {
	c := Replacement("cc:prompt:1:1|text", "Answered: **identity**")
	rel := c.Raw["m.relates_to"].(map[string]any)
	nc := c.Raw["m.new_content"].(map[string]any)
	if rel["rel_type"] != "m.replace" || rel["event_id"] != "cc:prompt:1:1|text" || !strings.HasPrefix(c.Raw["body"].(string), "* ") ||
		nc["body"] != "Answered: **identity**" {
		t.Errorf("replacement: %v", c.Raw)
	}
}
