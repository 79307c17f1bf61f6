package bot

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/contactcenter/contactcenter/consent"
)

func threePurposes() []consent.Purpose { return consent.DefaultPurposes()[:3] }

// decode marshals content the way the service sends it and reads it back as JSON.
func decode(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConsentPromptPoll(t *testing.T) {
	p, err := ConsentPrompt("ACME", threePurposes(), true)
	if err != nil {
		t.Fatal(err)
	}
	content := decode(t, p.Poll)
	start, ok := content["org.matrix.msc3381.poll.start"].(map[string]any)
	if !ok {
		t.Fatalf("no poll start block in %v", content)
	}
	if start["kind"] != "org.matrix.msc3381.poll.disclosed" {
		t.Errorf("kind = %v", start["kind"])
	}
	question, _ := start["question"].(map[string]any)
	if q, _ := question["org.matrix.msc1767.text"].(string); !strings.Contains(q, "ACME") {
		t.Errorf("question = %v", question)
	}
	answers, _ := start["answers"].([]any)
	var ids []string
	for _, a := range answers {
		m := a.(map[string]any)
		if text, _ := m["org.matrix.msc1767.text"].(string); text == "" {
			t.Errorf("answer %v has no text", m)
		}
		ids = append(ids, m["id"].(string))
	}
	wantIDs := []string{"identity", "account", "location", "all", "none", "remember"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("answer ids = %v, want %v", ids, wantIDs)
	}
	if start["max_selections"] != float64(len(wantIDs)) {
		t.Errorf("max_selections = %v, want %d", start["max_selections"], len(wantIDs))
	}
	for _, key := range []string{"org.matrix.msc1767.text", "body"} {
		text, _ := content[key].(string)
		if !strings.Contains(text, "1 identity — so the agent knows who you are") || !strings.Contains(text, "3 location") {
			t.Errorf("%s fallback = %q", key, text)
		}
	}
}

func TestConsentPromptNoticeAndReactions(t *testing.T) {
	p, err := ConsentPrompt("ACME", threePurposes(), true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Notice.MsgType != "m.notice" {
		t.Errorf("msgtype = %s", p.Notice.MsgType)
	}
	for _, want := range []string{"ACME", "identity", "account", "location", "all", "none", "remember", "e.g. 1 3"} {
		if !strings.Contains(p.Notice.Body, want) {
			t.Errorf("notice body lacks %q: %q", want, p.Notice.Body)
		}
	}
	if !strings.Contains(p.Notice.FormattedBody, "<ol>") {
		t.Errorf("notice HTML has no numbered list: %q", p.Notice.FormattedBody)
	}
	wantReactions := []string{"1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", ReactionAll, ReactionNone, ReactionRemember}
	if !reflect.DeepEqual(p.Reactions, wantReactions) {
		t.Errorf("reactions = %q, want %q", p.Reactions, wantReactions)
	}
}

func TestConsentPromptWithoutRemember(t *testing.T) {
	p, err := ConsentPrompt("ACME", threePurposes(), false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Notice.Body, "remember") {
		t.Errorf("notice offers remember: %q", p.Notice.Body)
	}
	for _, r := range p.Reactions {
		if r == ReactionRemember {
			t.Error("reacts with 📌 though remember is not offered")
		}
	}
	start := decode(t, p.Poll)["org.matrix.msc3381.poll.start"].(map[string]any)
	if n := len(start["answers"].([]any)); n != 5 {
		t.Errorf("%d poll answers, want 5", n)
	}
}

func TestConsentPromptOptionsSurviveJSON(t *testing.T) {
	p, err := ConsentPrompt("ACME", consent.DefaultPurposes(), true)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(p.Options)
	if err != nil {
		t.Fatal(err)
	}
	var back PromptOptions
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p.Options) {
		t.Fatalf("options changed through JSON: %+v vs %+v", back, p.Options)
	}
	for i, opt := range back.Options {
		if opt.Number != i+1 || opt.AnswerID != string(opt.Category) || opt.Reaction != keycaps[i] {
			t.Errorf("option %d = %+v", i, opt)
		}
	}
	wantCats := []consent.Category{consent.Identity, consent.Account, consent.Location, consent.Browsing, consent.Recording, consent.Contact}
	if !reflect.DeepEqual(back.Categories(), wantCats) {
		t.Errorf("categories = %v", back.Categories())
	}
}

func TestConsentPromptRejects(t *testing.T) {
	ten := make([]consent.Purpose, 10)
	for i := range ten {
		ten[i] = consent.Purpose{Category: consent.Category("c" + string(rune('a'+i))), Purpose: "why"}
	}
	tests := []struct {
		name  string
		asked []consent.Purpose
		want  string
	}{
		{"nothing asked", nil, "no categories"},
		{"too many for keycaps", ten, "at most 9"},
		{"no purpose", []consent.Purpose{{Category: "identity"}}, "needs a purpose"},
		{"repeated", []consent.Purpose{{Category: "identity", Purpose: "a"}, {Category: "identity", Purpose: "b"}}, "twice"},
		{"bad name", []consent.Purpose{{Category: "Identity!", Purpose: "a"}}, "must be 1-32"},
		{"collides with all", []consent.Purpose{{Category: "all", Purpose: "a"}}, "collides"},
		{"collides with none", []consent.Purpose{{Category: "none", Purpose: "a"}}, "collides"},
		{"collides with remember", []consent.Purpose{{Category: "remember", Purpose: "a"}}, "collides"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConsentPrompt("ACME", tt.asked, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestConsentPromptEscapesTenantName(t *testing.T) {
	p, err := ConsentPrompt("<b>Evil</b> *Corp*", threePurposes(), true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Notice.FormattedBody, "<b>Evil</b>") || strings.Contains(p.Notice.FormattedBody, "<em>") {
		t.Errorf("tenant name became markup: %q", p.Notice.FormattedBody)
	}
}

func TestPollEnd(t *testing.T) {
	tests := []struct {
		shared []consent.Category
		want   string
	}{
		{[]consent.Category{consent.Identity, consent.Location}, "Thanks — shared: identity, location"},
		{nil, "Thanks — nothing is shared."},
	}
	for _, tt := range tests {
		content := decode(t, PollEnd("$poll", tt.shared))
		rel, _ := content["m.relates_to"].(map[string]any)
		if rel["rel_type"] != "m.reference" || rel["event_id"] != "$poll" {
			t.Errorf("relation = %v", rel)
		}
		if _, ok := content["org.matrix.msc3381.poll.end"].(map[string]any); !ok {
			t.Errorf("no poll end block: %v", content)
		}
		if content["body"] != tt.want || content["org.matrix.msc1767.text"] != tt.want {
			t.Errorf("text = %v / %v, want %q", content["body"], content["org.matrix.msc1767.text"], tt.want)
		}
	}
}

func TestConsentTexts(t *testing.T) {
	if got := ConsentUnansweredText("ACME"); !strings.Contains(got, "ACME sees none") || !strings.Contains(got, "!privacy") {
		t.Errorf("unanswered = %q", got)
	}
	tests := []struct {
		decision consent.Decision
		want     string
	}{
		{consent.Given, "location: shared"},
		{consent.Refused, "location: not shared"},
		{consent.Withdrawn, "location: withdrawn, no longer shared"},
	}
	for _, tt := range tests {
		if got := ConsentReceiptLine(consent.Location, tt.decision); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.decision, got, tt.want)
		}
	}
}
