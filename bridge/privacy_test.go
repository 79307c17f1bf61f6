package bridge

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
)

// The filter finds the customer's Matrix ID and server name however they are written:
// in any case (server names are case-insensitive), percent-encoded in either case,
// JSON- or JavaScript-escaped, as HTML character references, and encoded twice.
func TestPrivacyFilterMatchesEveryForm(t *testing.T) {
	f := newPrivacyFilter("@bob:home.example")
	forms := []string{
		"@bob:home.example",
		"@bob:Home.Example",
		"@BOB:HOME.EXAMPLE",
		"%40bob%3ahome.example",
		"%40bob%3Ahome%2eexample",
		`\u0040bob\u003ahome.example`,
		`\x40bob:home.example`,
		"&#64;bob&#58;home.example",
		"&#x40;bob&colon;home&period;example",
		"&commat;bob:home.example",
		"&amp;#64;bob:home.example",
		"%2540bob%253Ahome.example",
		"Home.Example",
		"HOME%2EEXAMPLE",
		"sub.home.example",
	}
	for _, form := range forms {
		msg := &event.MessageEventContent{
			MsgType:       event.MsgText,
			Body:          "I am " + form + " ok",
			Format:        event.FormatHTML,
			FormattedBody: `<a href="https://matrix.to/#/` + form + `">me</a>`,
		}
		out, err := f.apply(msg)
		if err != nil {
			t.Fatal(err)
		}
		var got event.MessageEventContent
		if err = json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		body, formatted := strings.ToLower(got.Body), strings.ToLower(got.FormattedBody)
		if !strings.HasPrefix(body, "i am ") || !strings.HasSuffix(body, " ok") || !strings.Contains(body, hiddenID) ||
			strings.Contains(body, "home") || strings.Contains(body, "bob") ||
			strings.Contains(formatted, "home") || strings.Contains(formatted, "bob") {
			t.Errorf("%q came out as %q / %q", form, got.Body, got.FormattedBody)
		}
	}
}

// Only the customer's own server is hidden: other servers whose names contain it, and
// the copies' mxc URIs on the business server, are left as they are.
func TestPrivacyFilterKeepsOtherServers(t *testing.T) {
	f := newPrivacyFilter("@bob:home.example")
	for _, s := range []string{"mxc://bighome.example/abc", "see home.examples.org", "@alice:myhome.example"} {
		out, err := f.apply(map[string]string{"body": s})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), s) {
			t.Errorf("%q came out as %s", s, out)
		}
	}
}

// Link and visitor codes are secrets between the customer and the tenant: the filter
// takes them out of every field, however they were typed, and leaves the rest.
func TestPrivacyFilterHidesCodes(t *testing.T) {
	f := newPrivacyFilter("@bob:home.example")
	msg := &event.MessageEventContent{
		MsgType:       event.MsgText,
		Body:          "* order 123, code link 7k3q 9p2m 4xza",
		Format:        event.FormatHTML,
		FormattedBody: `order 123, <a href="https://acme.example/?c=VISIT-7K3Q-9P2M-4XZA">code</a>`,
		NewContent:    &event.MessageEventContent{MsgType: event.MsgText, Body: "order 123, code LINK-7K3Q-9P2M-4XZA"},
	}
	out, err := f.apply(msg)
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.ToLower(string(out)); strings.Contains(s, "7k3q") || !strings.Contains(s, "order 123, code") {
		t.Errorf("filtered: %s", out)
	}
}

// FuzzPrivacyFilter checks that the filter never panics, keeps valid UTF-8 valid, and
// leaves nothing it would hide on a second pass: hiding never makes a new trace.
func FuzzPrivacyFilter(f *testing.F) {
	for _, seed := range []string{
		"I am @bob:home.example", "%2540BOB%253Ahome.example", `\u0040bob:home.example`,
		"&amp;#64;bob&colon;home&period;example", "code link 7k3q 9p2m 4xza!", "%%4&#x;\\u12",
		"mxc://bighome.example/x", "\xff%40bob:home.example\xfe",
	} {
		f.Add(seed)
	}
	filter := newPrivacyFilter("@bob:home.example")
	f.Fuzz(func(t *testing.T, s string) {
		out := filter.text(s)
		if again := filter.text(out); again != out {
			t.Fatalf("text(%q) = %q, and again %q", s, out, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("text(%q) = %q is not valid UTF-8", s, out)
		}
	})
}
