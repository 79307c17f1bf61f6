package dashboard

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

// runTemplate substitutes widget URL variables the way Element does: each $name
// replaced by the value, URL-encoded.
func runTemplate(template string, vars map[string]string) string {
	out := template
	for k, v := range vars {
		out = strings.ReplaceAll(out, "$"+k, url.QueryEscape(v))
	}
	return out
}

func TestWidgetState(t *testing.T) {
	key, w, err := Widget("https://cc.example.com/_contactcenter/dashboard/", "acme", "ACME", "@acme:biz.example")
	if err != nil {
		t.Fatal(err)
	}
	if key != WidgetID("acme") || w.ID != key {
		t.Fatalf("state key %q, id %q", key, w.ID)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(mustJSON(w)), &raw); err != nil {
		t.Fatal(err)
	}
	// The fields Element reads, with the names it reads them by.
	for k, want := range map[string]any{"type": "m.custom", "name": "ACME live dashboard", "id": key,
		"creatorUserId": "@acme:biz.example", "waitForIframeLoad": true} {
		if raw[k] != want {
			t.Errorf("%s = %v, want %v", k, raw[k], want)
		}
	}
	if _, ok := raw["data"].(map[string]any); !ok {
		t.Error("data must be an object")
	}
	// The template variables must reach Element as written: an encoded "$" would not be
	// replaced.
	for _, v := range []string{"$matrix_user_id", "$matrix_room_id", "$org.matrix.msc2873.client_theme"} {
		if !strings.Contains(w.URL, v) {
			t.Errorf("URL %q lacks %s", w.URL, v)
		}
	}
	final := runTemplate(w.URL, map[string]string{
		"matrix_user_id": "@sam:biz.example", "matrix_room_id": "!ctl:biz.example",
		"org.matrix.msc2873.client_theme": "dark", "org.matrix.msc2873.client_language": "en",
	})
	u, err := url.Parse(final)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/_contactcenter/dashboard/" || q.Get("tenant") != "acme" || q.Get("user") != "@sam:biz.example" ||
		q.Get("room") != "!ctl:biz.example" || q.Get("theme") != "dark" || q.Get("lang") != "en" {
		t.Fatalf("templated URL %q", final)
	}
	if regexp.MustCompile(`\$[a-z]`).MatchString(final) {
		t.Fatalf("a variable was left: %q", final)
	}
}

func TestWidgetRefusesBadInput(t *testing.T) {
	for _, c := range []struct {
		url, tenant string
		creator     id.UserID
	}{
		{"ftp://x/", "acme", "@a:b"},
		{"https://x/?a=1", "acme", "@a:b"},
		{"https://x/#f", "acme", "@a:b"},
		{"not a url", "acme", "@a:b"},
		{"https://x/", "", "@a:b"},
		{"https://x/", "acme", ""},
	} {
		if _, _, err := Widget(c.url, c.tenant, "", c.creator); err == nil {
			t.Errorf("Widget(%q, %q, %q) accepted", c.url, c.tenant, c.creator)
		}
	}
}

func TestLayoutIsWhatElementReads(t *testing.T) {
	l := Layout(WidgetID("acme"), 45)
	if err := l.Validate(WidgetID("acme")); err != nil {
		t.Fatal(err)
	}
	want := `{"widgets":{"contactcenter_dashboard_acme":{"container":"top","index":0,"width":100,"height":45}}}`
	if got := mustJSON(l); got != want {
		t.Fatalf("layout %s\nwant   %s", got, want)
	}
	if h := *Layout("w", 500).Widgets["w"].Height; h != 100 {
		t.Fatalf("height clamped to %d", h)
	}
}

func TestLayoutValidation(t *testing.T) {
	bad := func(n int) *int { return &n }
	for name, l := range map[string]*LayoutContent{
		"nil widgets":       {},
		"unknown container": {Widgets: map[string]WidgetLayout{"w": {Container: "left"}}},
		"width over 100":    {Widgets: map[string]WidgetLayout{"w": {Container: "top", Width: bad(101)}}},
		"negative height":   {Widgets: map[string]WidgetLayout{"w": {Container: "top", Height: bad(-1)}}},
		"negative index":    {Widgets: map[string]WidgetLayout{"w": {Container: "top", Index: bad(-1)}}},
		"unknown widget":    {Widgets: map[string]WidgetLayout{"other": {Container: "top"}}},
		"four at the top": {Widgets: map[string]WidgetLayout{"w": {Container: "top"}, "a": {Container: "top"},
			"b": {Container: "top"}, "c": {Container: "top"}}},
	} {
		ids := []string{"w"}
		if name == "four at the top" {
			ids = []string{"w", "a", "b", "c"}
		}
		if err := l.Validate(ids...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
