package bridge

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

func TestPrivacyFilter(t *testing.T) {
	f := newPrivacyFilter("@bob:home.example:8448")
	msg := &event.MessageEventContent{
		MsgType:       event.MsgText,
		Body:          "I am @bob:home.example:8448 on home.example:8448",
		Format:        event.FormatHTML,
		FormattedBody: `<a href="https://matrix.to/#/%40bob%3Ahome.example%3A8448">me</a>`,
		FileName:      "bob@home.example:8448.txt",
	}
	out, err := f.apply(msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"bob:home", "home.example", "%40bob", "8448"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("%q survived: %s", leak, out)
		}
	}
}

func TestCleanMessageDropsFallbacksAndMentions(t *testing.T) {
	in := &event.MessageEventContent{
		MsgType:       event.MsgText,
		Body:          "> <@bob:home.example> hello\n\nanswer",
		Format:        event.FormatHTML,
		FormattedBody: "<mx-reply><blockquote>@bob:home.example hello</blockquote></mx-reply>answer",
		Mentions:      &event.Mentions{UserIDs: []id.UserID{"@acme:biz.example"}},
		RelatesTo:     (&event.RelatesTo{}).SetReplyTo("$original"),
	}
	out := cleanMessage(in)
	if out.Body != "answer" || out.FormattedBody != "answer" || out.Mentions != nil {
		t.Fatalf("cleaned: %+v", out)
	}
	if out.RelatesTo.GetReplyTo() != "$original" {
		t.Fatal("the reply relation must stay (it is translated when sent)")
	}
	if in.Mentions == nil {
		t.Fatal("the original must not be changed")
	}
}

func TestSigned(t *testing.T) {
	edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* <b>x</b>",
		NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "<b>x</b>"}}
	out := signed(edit, "Carol")
	if out.Body != "Carol: * <b>x</b>" || !strings.Contains(out.FormattedBody, "&lt;b&gt;x") || out.NewContent.Body != "Carol: <b>x</b>" {
		t.Fatalf("signed: %+v / %+v", out, out.NewContent)
	}
	file := signed(&event.MessageEventContent{MsgType: event.MsgFile, Body: "a.pdf", URL: "mxc://x/y"}, "Visitor 1A2B")
	if file.FileName != "a.pdf" || file.Body != "Visitor 1A2B: a.pdf" {
		t.Fatalf("signed file: %+v", file)
	}
}
