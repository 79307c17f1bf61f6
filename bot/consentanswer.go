package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/consent"
)

// Answer is a customer's answer to a consent prompt.
//
// A Final answer settles every offered category: each is in Granted or in Refused
// (text answers, poll responses, ✅ and ❌). A reaction on a number is not final: it
// grants that one category and refuses nothing.
type Answer struct {
	Granted  []consent.Category // in prompt order
	Refused  []consent.Category // in prompt order
	Remember bool               // keep this choice as the standing policy (only if offered)
	All      bool               // the customer chose "all"
	None     bool               // the customer chose "none"
	Final    bool
}

var (
	// ErrNotAnswer: the message is not an answer; relay it as ordinary text.
	ErrNotAnswer = errors.New("not an answer to the consent prompt")
	// ErrOutOfRange: the answer names a number the prompt did not offer ("there is no
	// option 7"); errors.Is works on the wrapped error, which names the number.
	ErrOutOfRange = errors.New("no such option")
	// ErrAmbiguous: the message looks like an answer but does not say what to share
	// ("yes", "all none", "none 2"); ask again.
	ErrAmbiguous = errors.New("unclear answer")
	// ErrUnknownOption: a poll response names an answer ID the prompt did not offer.
	ErrUnknownOption = errors.New("unknown poll answer")
)

// maxAnswerLength bounds what is read as an answer: real answers are a few words.
const maxAnswerLength = 200

// ParseTextAnswer reads a text reply to the prompt. Only a body made solely of answer
// tokens counts, so ordinary chat ("I have 3 cards", an order number) is relayed:
//
//   - option numbers (1 or 2 digits, or keycap emojis) separated by spaces, commas,
//     "and", "&", "+" or ";": "1 3", "1,3", "1 and 3", "1, 2 & 3"
//   - "all" / "everything" / ✅, "none" / "nothing" / "no" / ❌
//   - "remember" / 📌 anywhere, as a modifier; alone it is Answer{Remember: true}
//     (not Final), keeping whatever this prompt's earlier answers decided; when
//     remember was not offered it is ignored, and alone it is not an answer
//   - "please", "thanks", "thank you" as filler
//
// Case, surrounding whitespace, trailing punctuation and a quoted reply fallback are
// ignored. "yes" and "ok" are not taken as "all" (the question has several parts):
// they give ErrAmbiguous, as do conflicting choices ("all none", "none 2"). Numbers of
// 3 or more digits are not answers. An answer that chooses anything is Final.
func ParseTextAnswer(body string, opts PromptOptions) (Answer, error) {
	return parseTextAnswer(body, opts)
}

// MayAnswer tells whether body could answer some consent prompt: when it cannot,
// ParseTextAnswer gives ErrNotAnswer whatever the prompt offered, so the prompt need
// not be looked up for it (most messages are ordinary chat).
func MayAnswer(body string) bool {
	_, err := parseTextAnswer(body, anyPrompt)
	return !errors.Is(err, ErrNotAnswer)
}

// anyPrompt is the prompt parseTextAnswer refuses least: it has options and offers
// remember. Which numbers a prompt offers decides only between an answer and other
// errors (ErrOutOfRange), never ErrNotAnswer.
var anyPrompt = PromptOptions{Options: []PromptOption{{Number: 1}}, Remember: true}

func parseTextAnswer(body string, opts PromptOptions) (Answer, error) {
	text := strings.ToLower(strings.TrimSpace(stripReplyFallback(body)))
	if text == "" || len(text) > maxAnswerLength || len(opts.Options) == 0 {
		return Answer{}, ErrNotAnswer
	}
	text = strings.ReplaceAll(text, "thank you", "thanks")
	tokens := strings.FieldsFunc(text, func(r rune) bool {
		switch r {
		case ' ', '\t', '\n', '\r', ',', ';', '&', '+':
			return true
		}
		return false
	})
	var (
		numbers              []int
		all, none, remember  bool
		vague, choiceOrVague bool
	)
	for _, tok := range tokens {
		tok = strings.TrimRight(tok, ".!?")
		switch tok {
		case "", "and", "please", "pls", "thanks", "thx":
			continue
		case "all", "everything", normalizeEmoji(ReactionAll):
			all = true
		case "none", "nothing", "no", normalizeEmoji(ReactionNone):
			none = true
		case "remember", normalizeEmoji(ReactionRemember):
			remember = true
			continue
		case "yes", "ok", "okay", "sure", "y":
			vague = true
		default:
			n, ok := parseOptionNumber(tok)
			if !ok {
				return Answer{}, ErrNotAnswer
			}
			numbers = append(numbers, n)
		}
		choiceOrVague = true
	}
	if !choiceOrVague {
		// "remember" alone (after an earlier answer) only keeps the choice.
		if remember && opts.Remember {
			return Answer{Remember: true}, nil
		}
		return Answer{}, ErrNotAnswer
	}
	for _, n := range numbers {
		if _, ok := opts.byNumber(n); !ok {
			return Answer{}, fmt.Errorf("%w: there is no option %d (options are 1 to %d)", ErrOutOfRange, n, len(opts.Options))
		}
	}
	if vague || (none && (all || len(numbers) > 0)) {
		return Answer{}, ErrAmbiguous
	}
	chosen := map[consent.Category]bool{}
	for _, n := range numbers {
		cat, _ := opts.byNumber(n)
		chosen[cat] = true
	}
	return settle(opts, chosen, all, none, remember), nil
}

// parseOptionNumber reads "3" or a keycap "3️⃣" (with or without U+FE0F).
func parseOptionNumber(tok string) (int, bool) {
	tok = strings.TrimSuffix(normalizeEmoji(tok), "\u20e3")
	if len(tok) == 0 || len(tok) > 2 {
		return 0, false
	}
	for _, r := range tok {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(tok)
	return n, err == nil
}

// stripReplyFallback drops the "> quoted" lines a reply starts with in older clients.
func stripReplyFallback(body string) string {
	if !strings.HasPrefix(body, "> ") {
		return body
	}
	lines := strings.Split(body, "\n")
	i := 0
	for i < len(lines) && strings.HasPrefix(lines[i], ">") {
		i++
	}
	return strings.Join(lines[i:], "\n")
}

// settle makes a final answer: chosen (or everything, for all) is granted and every
// other offered category refused.
func settle(opts PromptOptions, chosen map[consent.Category]bool, all, none, remember bool) Answer {
	ans := Answer{All: all && !none, None: none, Remember: remember && opts.Remember, Final: true}
	for _, cat := range opts.Categories() {
		if !none && (all || chosen[cat]) {
			ans.Granted = append(ans.Granted, cat)
		} else {
			ans.Refused = append(ans.Refused, cat)
		}
	}
	return ans
}

// ParsePollResponse reads a poll response event's content (evt.Content.Raw) in the
// unstable shape {"org.matrix.msc3381.poll.response": {"answers": [...]}} or the stable
// ones {"m.selections": [...]} / {"m.poll.response": {"answers": [...]}}. It returns
// the poll's event ID from the m.reference relation; the caller checks that it is the
// prompt opts belong to.
//
// A response is the full current selection, so it is Final: unticked categories are
// refused. Clients send a new response on every tick, and single-choice clients
// (Element Web ignores max_selections) replace the earlier vote, so the caller should
// let later responses replace earlier ones rather than close the poll at the first.
// "none" wins over anything else ticked with it. A selection of only "remember" is
// Answer{Remember: true}, not Final, like the 📌 reaction. An empty selection (a
// retracted vote) is ErrNotAnswer; an answer ID not offered is ErrUnknownOption.
func ParsePollResponse(content map[string]any, opts PromptOptions) (Answer, id.EventID, error) {
	pollID := referencedEvent(content)
	if pollID == "" {
		return Answer{}, "", fmt.Errorf("%w: poll response without an m.reference to the poll", ErrNotAnswer)
	}
	selections, ok := pollSelections(content)
	if !ok || len(selections) == 0 {
		return Answer{}, pollID, fmt.Errorf("%w: poll response without selections", ErrNotAnswer)
	}
	chosen := map[consent.Category]bool{}
	var all, none, remember bool
	for _, sel := range selections {
		switch sel {
		case AnswerAll:
			all = true
		case AnswerNone:
			none = true
		case AnswerRemember:
			remember = true
		default:
			cat, ok := opts.byAnswerID(sel)
			if !ok {
				return Answer{}, pollID, fmt.Errorf("%w %q", ErrUnknownOption, sel)
			}
			chosen[cat] = true
		}
	}
	if !all && !none && len(chosen) == 0 {
		// Only "remember": single-choice clients (Element Web ignores max_selections)
		// replace the earlier vote with it, so it must not refuse everything.
		return Answer{Remember: opts.Remember}, pollID, nil
	}
	return settle(opts, chosen, all, none, remember), pollID, nil
}

func referencedEvent(content map[string]any) id.EventID {
	rel, _ := content["m.relates_to"].(map[string]any)
	if rel == nil || rel["rel_type"] != string(event.RelReference) {
		return ""
	}
	eventID, _ := rel["event_id"].(string)
	return id.EventID(eventID)
}

// pollSelections finds the answer IDs in any of the response shapes; false when
// there is no response block or it holds something other than strings.
func pollSelections(content map[string]any) ([]string, bool) {
	var list any
	if v, ok := content["m.selections"]; ok {
		list = v
	} else {
		for _, key := range []string{"org.matrix.msc3381.poll.response", "m.poll.response"} {
			if block, ok := content[key].(map[string]any); ok {
				list = block["answers"]
				break
			}
		}
	}
	items, ok := list.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		s, ok := item.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// ParseReaction reads one reaction key on the prompt. Reactions arrive one at a time,
// so the rule is:
//
//   - a keycap grants its one category at once and refuses nothing (not Final);
//   - ✅ grants everything and ❌ refuses everything (Final: close the prompt);
//   - 📌 only sets Remember (no categories): the caller applies it to the
//     decisions of this prompt, earlier or later.
//
// Removing a reaction (a redaction) is read by ParseReactionRemoval. Any other key
// returns false.
func ParseReaction(key string, opts PromptOptions) (Answer, bool) {
	switch normalizeEmoji(key) {
	case normalizeEmoji(ReactionAll):
		return settle(opts, nil, true, false, false), true
	case normalizeEmoji(ReactionNone):
		return settle(opts, nil, false, true, false), true
	case normalizeEmoji(ReactionRemember):
		if !opts.Remember {
			return Answer{}, false
		}
		return Answer{Remember: true}, true
	}
	if cat, ok := opts.byReaction(key); ok {
		return Answer{Granted: []consent.Category{cat}}, true
	}
	return Answer{}, false
}

// ParseReactionRemoval reads a reaction on the prompt that the customer took back (a
// redaction of their own reaction): taking back a keycap withdraws its one category,
// refusing nothing else (not Final). Taking back ✅, ❌ or 📌 decides nothing, since
// the answer it gave stands until another changes it: false, like any other key.
func ParseReactionRemoval(key string, opts PromptOptions) (Answer, bool) {
	if cat, ok := opts.byReaction(key); ok {
		return Answer{Refused: []consent.Category{cat}}, true
	}
	return Answer{}, false
}
