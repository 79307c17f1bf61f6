package bot

import (
	"reflect"
	"testing"
)

func TestParseCommand(t *testing.T) {
	cases := map[string]*Command{
		"!ready":                     {Name: "ready", Args: []string{}},
		"  Accept ":                  {Name: "accept", Args: []string{}},
		"!invite @carol:x.org now":   {Name: "invite", Args: []string{"@carol:x.org", "now"}},
		"!STATUS\n> quoted fallback": {Name: "status", Args: []string{}},
		"":                           nil,
		"   ":                        nil,
		"!":                          nil,
	}
	for body, want := range cases {
		got, ok := ParseCommand(body)
		if want == nil {
			if ok {
				t.Errorf("%q: parsed as %+v, want nothing", body, got)
			}
			continue
		}
		if !ok || got.Name != want.Name || !reflect.DeepEqual(append([]string{}, got.Args...), want.Args) {
			t.Errorf("%q: got %+v (%v), want %+v", body, got, ok, *want)
		}
	}
}

func TestParseBangCommand(t *testing.T) {
	if _, ok := ParseBangCommand("end of the story"); ok {
		t.Fatal("a plain word is talk in desk and side rooms")
	}
	if cmd, ok := ParseBangCommand(" !End"); !ok || cmd.Name != "end" {
		t.Fatalf("!End: %+v %v", cmd, ok)
	}
}
