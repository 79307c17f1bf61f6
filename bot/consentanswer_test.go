package bot

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/contactcenter/contactcenter/consent"
)

func promptOptions(t testing.TB, remember bool) PromptOptions {
	t.Helper()
	p, err := ConsentPrompt("ACME", consent.DefaultPurposes()[:3], remember)
	if err != nil {
		t.Fatal(err)
	}
	return p.Options
}

type cats = []consent.Category

const (
	id1 = consent.Identity
	ac2 = consent.Account
	lo3 = consent.Location
)

func TestParseTextAnswer(t *testing.T) {
	opts := promptOptions(t, true)
	tests := []struct {
		body    string
		granted cats
		all     bool
		none    bool
		remem   bool
	}{
		{"1 3", cats{id1, lo3}, false, false, false},
		{"1,3", cats{id1, lo3}, false, false, false},
		{"1, 3", cats{id1, lo3}, false, false, false},
		{"1 and 3", cats{id1, lo3}, false, false, false},
		{"1, 2 & 3", cats{id1, ac2, lo3}, false, false, false},
		{"3 1", cats{id1, lo3}, false, false, false},
		{"2 2", cats{ac2}, false, false, false},
		{"2.", cats{ac2}, false, false, false},
		{"  2!  ", cats{ac2}, false, false, false},
		{"1;2", cats{id1, ac2}, false, false, false},
		{"1+2", cats{id1, ac2}, false, false, false},
		{"01", cats{id1}, false, false, false},
		{"1️⃣ 3️⃣", cats{id1, lo3}, false, false, false},
		{"1\u20e3", cats{id1}, false, false, false},
		{"all", cats{id1, ac2, lo3}, true, false, false},
		{"ALL", cats{id1, ac2, lo3}, true, false, false},
		{"All.", cats{id1, ac2, lo3}, true, false, false},
		{"everything", cats{id1, ac2, lo3}, true, false, false},
		{"all 2", cats{id1, ac2, lo3}, true, false, false},
		{"✅", cats{id1, ac2, lo3}, true, false, false},
		{"none", nil, false, true, false},
		{"nothing", nil, false, true, false},
		{"No", nil, false, true, false},
		{"no thanks", nil, false, true, false},
		{"No, thank you.", nil, false, true, false},
		{"❌", nil, false, true, false},
		{"1 3 remember", cats{id1, lo3}, false, false, true},
		{"remember 2", cats{ac2}, false, false, true},
		{"Remember, all please", cats{id1, ac2, lo3}, true, false, true},
		{"none remember", nil, false, true, true},
		{"📌 1", cats{id1}, false, false, true},
		{"> <@acme:example.com> ACME asks to see:\n> 1 identity\n\n1 3", cats{id1, lo3}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := ParseTextAnswer(tt.body, opts)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(got.Granted, tt.granted) {
				t.Errorf("granted = %v, want %v", got.Granted, tt.granted)
			}
			var wantRefused cats
			for _, c := range opts.Categories() {
				if !slices.Contains(tt.granted, c) {
					wantRefused = append(wantRefused, c)
				}
			}
			if !reflect.DeepEqual(got.Refused, wantRefused) {
				t.Errorf("refused = %v, want %v", got.Refused, wantRefused)
			}
			if got.All != tt.all || got.None != tt.none || got.Remember != tt.remem || !got.Final {
				t.Errorf("all/none/remember/final = %v/%v/%v/%v, want %v/%v/%v/true", got.All, got.None, got.Remember, got.Final, tt.all, tt.none, tt.remem)
			}
		})
	}
}

func TestParseTextAnswerRejects(t *testing.T) {
	opts := promptOptions(t, true)
	tests := []struct {
		body string
		want error
	}{
		{"I have 3 cards", ErrNotAnswer},
		{"hello", ErrNotAnswer},
		{"", ErrNotAnswer},
		{"   ", ErrNotAnswer},
		{"thanks", ErrNotAnswer},
		{"and", ErrNotAnswer},
		{"1-3", ErrNotAnswer},
		{"1 or 3", ErrNotAnswer},
		{"all of them", ErrNotAnswer},
		{"no idea what you mean", ErrNotAnswer},
		{"12345678", ErrNotAnswer}, // an order number, not an option
		{"123", ErrNotAnswer},
		{"-1", ErrNotAnswer},
		{"1.5", ErrNotAnswer},
		{"3 cards", ErrNotAnswer},
		{"my order 42 is late", ErrNotAnswer},
		{strings.Repeat("1 ", 150), ErrNotAnswer},
		{"7", ErrOutOfRange},
		{"0", ErrOutOfRange},
		{"1 7", ErrOutOfRange},
		{"99", ErrOutOfRange},
		{"yes", ErrAmbiguous},
		{"OK", ErrAmbiguous},
		{"sure!", ErrAmbiguous},
		{"yes 1", ErrAmbiguous},
		{"all none", ErrAmbiguous},
		{"none 2", ErrAmbiguous},
		{"no 1 3", ErrAmbiguous},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := ParseTextAnswer(tt.body, opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("answer %+v, err = %v, want %v", got, err, tt.want)
			}
		})
	}
	if _, err := ParseTextAnswer("7", opts); err == nil || !strings.Contains(err.Error(), "no option 7") {
		t.Errorf("out of range error does not name the number: %v", err)
	}
}

func TestParseTextAnswerRememberAlone(t *testing.T) {
	got, err := ParseTextAnswer("Remember", promptOptions(t, true))
	if err != nil || !got.Remember || got.Final || len(got.Granted)+len(got.Refused) != 0 {
		t.Errorf("remember alone = %+v, %v; want only Remember", got, err)
	}
	// Not offered: "remember" alone is ordinary text, and as a modifier ignored.
	noRemember := promptOptions(t, false)
	if _, err := ParseTextAnswer("remember", noRemember); !errors.Is(err, ErrNotAnswer) {
		t.Errorf("remember not offered: err = %v", err)
	}
	got, err = ParseTextAnswer("1 remember", noRemember)
	if err != nil || got.Remember || !reflect.DeepEqual(got.Granted, cats{id1}) {
		t.Errorf("1 remember, not offered = %+v, %v", got, err)
	}
}

func TestParseTextAnswerNoOptions(t *testing.T) {
	if _, err := ParseTextAnswer("1", PromptOptions{}); !errors.Is(err, ErrNotAnswer) {
		t.Errorf("empty options: err = %v", err)
	}
}

func pollContent(shape string, pollID string, ids ...string) map[string]any {
	list := make([]any, len(ids))
	for i, s := range ids {
		list[i] = s
	}
	content := map[string]any{"m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": pollID}}
	switch shape {
	case "unstable":
		content["org.matrix.msc3381.poll.response"] = map[string]any{"answers": list}
	case "stable":
		content["m.selections"] = list
	case "stable-old":
		content["m.poll.response"] = map[string]any{"answers": list}
	}
	return content
}

func TestParsePollResponse(t *testing.T) {
	opts := promptOptions(t, true)
	tests := []struct {
		ids     []string
		granted cats
		none    bool
		remem   bool
		final   bool
	}{
		{[]string{"identity"}, cats{id1}, false, false, true},
		{[]string{"location", "identity"}, cats{id1, lo3}, false, false, true},
		{[]string{"all"}, cats{id1, ac2, lo3}, false, false, true},
		{[]string{"all", "remember"}, cats{id1, ac2, lo3}, false, true, true},
		{[]string{"none"}, nil, true, false, true},
		{[]string{"none", "identity", "all"}, nil, true, false, true}, // the stricter choice wins
		{[]string{"remember"}, nil, false, true, false},
	}
	for _, shape := range []string{"unstable", "stable", "stable-old"} {
		for _, tt := range tests {
			t.Run(shape+"/"+strings.Join(tt.ids, ","), func(t *testing.T) {
				got, pollID, err := ParsePollResponse(pollContent(shape, "$poll", tt.ids...), opts)
				if err != nil {
					t.Fatal(err)
				}
				if pollID != "$poll" {
					t.Errorf("poll id = %q", pollID)
				}
				if !reflect.DeepEqual(got.Granted, tt.granted) || got.None != tt.none || got.Remember != tt.remem || got.Final != tt.final {
					t.Errorf("got %+v", got)
				}
				if tt.final && len(got.Granted)+len(got.Refused) != 3 {
					t.Errorf("final answer does not settle all three: %+v", got)
				}
			})
		}
	}
}

func TestParsePollResponseRejects(t *testing.T) {
	opts := promptOptions(t, true)
	noRelation := pollContent("unstable", "$poll", "identity")
	delete(noRelation, "m.relates_to")
	annotation := pollContent("unstable", "$poll", "identity")
	annotation["m.relates_to"] = map[string]any{"rel_type": "m.annotation", "event_id": "$poll"}
	notStrings := pollContent("stable", "$poll")
	notStrings["m.selections"] = []any{1.0}
	notList := pollContent("stable", "$poll")
	notList["m.selections"] = "identity"
	tests := []struct {
		name    string
		content map[string]any
		want    error
	}{
		{"no relation", noRelation, ErrNotAnswer},
		{"annotation", annotation, ErrNotAnswer},
		{"no response block", pollContent("", "$poll"), ErrNotAnswer},
		{"empty selection", pollContent("unstable", "$poll"), ErrNotAnswer},
		{"numbers", notStrings, ErrNotAnswer},
		{"not a list", notList, ErrNotAnswer},
		{"unknown id", pollContent("unstable", "$poll", "identity", "browsing"), ErrUnknownOption},
		{"nil", nil, ErrNotAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ParsePollResponse(tt.content, opts); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseReaction(t *testing.T) {
	opts := promptOptions(t, true)
	tests := []struct {
		key     string
		ok      bool
		granted cats
		refused cats
		remem   bool
		final   bool
	}{
		{"1\ufe0f\u20e3", true, cats{id1}, nil, false, false},
		{"3\u20e3", true, cats{lo3}, nil, false, false}, // without the variation selector
		{"4\ufe0f\u20e3", false, nil, nil, false, false},
		{"✅", true, cats{id1, ac2, lo3}, nil, false, true},
		{"✅\ufe0f", true, cats{id1, ac2, lo3}, nil, false, true},
		{"❌", true, nil, cats{id1, ac2, lo3}, false, true},
		{"📌", true, nil, nil, true, false},
		{"👍", false, nil, nil, false, false},
		{"", false, nil, nil, false, false},
		{"1", false, nil, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := ParseReaction(tt.key, opts)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !reflect.DeepEqual(got.Granted, tt.granted) || !reflect.DeepEqual(got.Refused, tt.refused) || got.Remember != tt.remem || got.Final != tt.final {
				t.Errorf("got %+v", got)
			}
		})
	}
	if _, ok := ParseReaction("📌", promptOptions(t, false)); ok {
		t.Error("📌 accepted though remember was not offered")
	}
}

// TestParseReactionRemoval: taking back a keycap withdraws its one category; taking
// back ✅, ❌ or 📌 decides nothing (the answer they gave stands until changed).
func TestParseReactionRemoval(t *testing.T) {
	opts := promptOptions(t, true)
	for _, tt := range []struct {
		key     string
		ok      bool
		refused cats
	}{
		{"1\ufe0f\u20e3", true, cats{id1}},
		{"3\u20e3", true, cats{lo3}},
		{"4\ufe0f\u20e3", false, nil},
		{"✅", false, nil},
		{"❌", false, nil},
		{"📌", false, nil},
		{"👍", false, nil},
	} {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := ParseReactionRemoval(tt.key, opts)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !reflect.DeepEqual(got.Refused, tt.refused) || got.Granted != nil || got.Remember || got.Final {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func FuzzParseTextAnswer(f *testing.F) {
	for _, seed := range []string{"1 3", "1, 2 & 3", "all remember", "none", "I have 3 cards", "7", "yes", "1️⃣", "> q\n\n2", "no thanks", "0 1", "remember"} {
		f.Add(seed)
	}
	opts := promptOptions(f, true)
	offered := opts.Categories()
	f.Fuzz(func(t *testing.T, body string) {
		got, err := ParseTextAnswer(body, opts)
		if err != nil {
			if !errors.Is(err, ErrNotAnswer) && !errors.Is(err, ErrOutOfRange) && !errors.Is(err, ErrAmbiguous) {
				t.Fatalf("unexpected error kind %v", err)
			}
			if !reflect.DeepEqual(got, Answer{}) {
				t.Fatalf("error with an answer: %+v", got)
			}
			return
		}
		seen := map[consent.Category]bool{}
		for _, c := range append(slices.Clone(got.Granted), got.Refused...) {
			if !slices.Contains(offered, c) {
				t.Fatalf("category %q was not offered", c)
			}
			if seen[c] {
				t.Fatalf("category %q both granted and refused or twice", c)
			}
			seen[c] = true
		}
		if got.Final != (len(seen) == len(offered)) {
			t.Fatalf("final = %v but settles %d of %d", got.Final, len(seen), len(offered))
		}
		if got.All && got.None {
			t.Fatal("all and none")
		}
	})
}

// MayAnswer is false only for what no prompt takes as an answer.
func TestMayAnswer(t *testing.T) {
	prompts := []PromptOptions{promptOptions(t, true), promptOptions(t, false), {}}
	bodies := []string{"I have 3 cards", "hello", "", "thanks", "1-3", "all of them", "12345678", "3 cards",
		"1", "1 3", "7", "all", "none", "yes", "remember", "Remember!", "1 remember", "no 1 3", "please", "❌",
		strings.Repeat("1 ", 150), "Hello, this is message 12 about my order."}
	for _, body := range bodies {
		may := MayAnswer(body)
		for _, opts := range prompts {
			if _, err := ParseTextAnswer(body, opts); !may && !errors.Is(err, ErrNotAnswer) {
				t.Errorf("MayAnswer(%q) = false, but a prompt takes it: %v", body, err)
			}
		}
	}
	for _, body := range []string{"1", "all", "remember", "yes", "7"} {
		if !MayAnswer(body) {
			t.Errorf("MayAnswer(%q) = false", body)
		}
	}
	for _, body := range []string{"hello", "I have 3 cards", "Hello, this is message 12 about my order."} {
		if MayAnswer(body) {
			t.Errorf("MayAnswer(%q) = true", body)
		}
	}
}
