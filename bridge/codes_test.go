package bridge

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/linkcode"
)

// A link or visitor code is redeemed in whatever text form the customer sends it (a
// message, an emote, a notice, an edit, only in the formatted body), and never reaches
// staff in any: a message that is only the code is not relayed, and one with more to
// say is relayed without the code.
func TestCodesInEveryTextFormAreRedeemedAndNeverRelayed(t *testing.T) {
	tests := []struct {
		name    string
		kind    linkcode.Kind
		content func(code string) *event.MessageEventContent
		// relayed is what the desk copy must still say ("" when nothing is relayed).
		relayed string
	}{
		{"emote", linkcode.Link, func(code string) *event.MessageEventContent {
			return &event.MessageEventContent{MsgType: event.MsgEmote, Body: code}
		}, ""},
		{"notice", linkcode.Visitor, func(code string) *event.MessageEventContent {
			return &event.MessageEventContent{MsgType: event.MsgNotice, Body: code}
		}, ""},
		{"typed loosely, alone", linkcode.Link, func(code string) *event.MessageEventContent {
			return &event.MessageEventContent{MsgType: event.MsgText, Body: strings.ToLower(strings.ReplaceAll(code, "-", " ")) + "."}
		}, ""},
		{"after !identify", linkcode.Link, func(code string) *event.MessageEventContent {
			return &event.MessageEventContent{MsgType: event.MsgText, Body: "!identify " + code}
		}, ""},
		{"in a sentence", linkcode.Link, func(code string) *event.MessageEventContent {
			return &event.MessageEventContent{MsgType: event.MsgText, Body: "order 123, code " + code,
				Format: event.FormatHTML, FormattedBody: "order <b>123</b>, code <code>" + code + "</code>"}
		}, "order 123, code"},
		{"only in the formatted body", linkcode.Visitor, func(code string) *event.MessageEventContent {
			return &event.MessageEventContent{MsgType: event.MsgText, Body: "see my browsing",
				Format: event.FormatHTML, FormattedBody: `<a href="https://acme.example/?c=` + code + `">see my browsing</a>`}
		}, "see my browsing"},
		{"in an edit", linkcode.Link, func(code string) *event.MessageEventContent {
			msg := &event.MessageEventContent{MsgType: event.MsgText, Body: "* my order, code " + code,
				NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "my order, code " + code}}
			msg.RelatesTo = (&event.RelatesTo{}).SetReplace("$earlier")
			return msg
		}, "my order, code"},
		{"only in the edit's new content", linkcode.Visitor, func(code string) *event.MessageEventContent {
			msg := &event.MessageEventContent{MsgType: event.MsgText, Body: "* (edited)",
				NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: code}}
			msg.RelatesTo = (&event.RelatesTo{}).SetReplace("$earlier")
			return msg
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bed := newInputBed(t)
			code := bed.newCode(t, tt.kind)
			evtID := bed.send(t, event.EventMessage, tt.content(code))
			if done, lastErr := bed.handled(t, evtID); !done {
				t.Fatalf("the event was not handled: %s", lastErr)
			}

			thanks := bed.queuedFor(t, bedCustomerRoom, evtID)
			if len(thanks) != 1 || !strings.Contains(thanks[0].message().Body, "Thanks") {
				t.Fatalf("the code was not redeemed; the customer got %+v", thanks)
			}
			desk := bed.queuedFor(t, bed.conv.DeskRoom, evtID)
			switch {
			case tt.relayed == "" && len(desk) != 0:
				t.Errorf("a message that is only a code was relayed: %s", desk[0].content)
			case tt.relayed != "" && (len(desk) != 1 || !strings.Contains(desk[0].content, tt.relayed)):
				t.Errorf("the rest of the message was not relayed (%q): %+v", tt.relayed, desk)
			}
			for _, q := range bed.staffCopies(t) {
				if leaksCode(q.content, code) {
					t.Errorf("the code reached a staff room (%s): %s", q.room, q.content)
				}
			}
		})
	}
}

// leaksCode tells whether text holds the code in any way a customer may type it.
func leaksCode(text, code string) bool {
	payload := strings.ToLower(strings.ReplaceAll(code[strings.Index(code, "-")+1:], "-", ""))
	squeezed := strings.NewReplacer("-", "", " ", "").Replace(strings.ToLower(text))
	return strings.Contains(squeezed, payload)
}

// A code in a reaction's key (reactions are free text) is never shown to staff.
func TestCodeInAReactionKeyIsHidden(t *testing.T) {
	bed := newInputBed(t)
	code := bed.newCode(t, linkcode.Link)
	evtID := bed.send(t, event.EventReaction, &event.ReactionEventContent{
		RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: id.EventID("$earlier"), Key: code}})
	if done, lastErr := bed.handled(t, evtID); !done {
		t.Fatalf("the reaction was not handled: %s", lastErr)
	}
	for _, q := range bed.staffCopies(t) {
		if leaksCode(q.content, code) {
			t.Errorf("the code reached a staff room (%s): %s", q.room, q.content)
		}
	}
}
