package bridge

import (
	"slices"
	"unicode"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/linkcode"
)

// codesIn finds the link and visitor codes in every text form of a customer's
// message: its body and formatted body, and those of the new content of an edit. Each
// code appears once, where it first does.
func codesIn(msg *event.MessageEventContent) []linkcode.Match {
	texts := []string{msg.Body, msg.FormattedBody}
	if msg.NewContent != nil {
		texts = append(texts, msg.NewContent.Body, msg.NewContent.FormattedBody)
	}
	var codes []linkcode.Match
	for _, text := range texts {
		for _, m := range linkcode.FindAll(text) {
			if !slices.ContainsFunc(codes, func(c linkcode.Match) bool { return c.Code == m.Code }) {
				codes = append(codes, m)
			}
		}
	}
	return codes
}

// onlyCodes tells whether a text message says nothing but its codes (an edit: its new
// content), so that nothing of it is relayed. Anything more is relayed, the codes
// taken out by the privacy filter; media are relayed whatever their caption says.
func onlyCodes(msg *event.MessageEventContent) bool {
	switch msg.MsgType {
	case event.MsgText, event.MsgEmote, event.MsgNotice:
	default:
		return false
	}
	text := msg.Body
	if msg.NewContent != nil {
		text = msg.NewContent.Body
	}
	at := 0
	for _, m := range linkcode.FindAll(text) {
		if saysSomething(text[at:m.Start]) {
			return false
		}
		at = m.End
	}
	return !saysSomething(text[at:])
}

// saysSomething tells whether text has a letter or a digit, not just spaces and
// punctuation.
func saysSomething(text string) bool {
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
