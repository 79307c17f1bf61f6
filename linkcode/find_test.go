package linkcode

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFind(t *testing.T) {
	const link = "LINK-7K3Q-9P2M-4XZA"
	const visit = "VISIT-7K3Q-9P2M-4XZA"
	tests := []struct {
		name, text string
		kind       Kind
		code       string // "" for no match
	}{
		{"canonical", link, Link, link},
		{"visitor", visit, Visitor, visit},
		{"lowercase", "link-7k3q-9p2m-4xza", Link, link},
		{"mixed case", "Visit-7k3Q-9p2M-4xZa", Visitor, visit},
		{"no dashes", "LINK7K3Q9P2M4XZA", Link, link},
		{"spaces", "link 7k3q 9p2m 4xza", Link, link},
		{"some separators", "LINK 7K3Q9P2M-4XZA", Link, link},
		{"long separators", "LINK -  7K3Q -\t9P2M\n4XZA", Link, link},
		{"unicode dashes", "LINK\u20137K3Q\u20149P2M\u00a04XZA", Link, link},
		{"in a sentence", "Hi! My code is link-7k3q-9p2m-4xza, thanks.", Link, link},
		{"in parentheses", "(VISIT-7K3Q-9P2M-4XZA)", Visitor, visit},
		{"after a non-ASCII letter and space", "é link 7k3q 9p2m 4xza", Link, link},
		{"O typed for 0", "LINK-8OOO-9P2M-4XZA", Link, "LINK-8000-9P2M-4XZA"},
		{"I and L typed for 1", "visit-8iil-9p2m-4xza", Visitor, "VISIT-8111-9P2M-4XZA"},
		{"first of two codes", visit + " and " + link, Visitor, visit},
		{"prefix said twice", "link LINK-7K3Q-9P2M-4XZA", Link, link},
		{"bad candidate then good", "visit 7K3Q then VISIT-7K3Q-9P2M-4XZA", Visitor, visit},
		{"trailing dash is a boundary", link + "-", Link, link},

		{"empty", "", "", ""},
		{"no prefix", "7K3Q-9P2M-4XZA", "", ""},
		{"prefix only", "LINK", "", ""},
		{"too short", "LINK-7K3Q-9P2M-4XZ", "", ""},
		{"too long", "LINK-7K3Q-9P2M-4XZAB", "", ""},
		{"thirteenth digit", "LINK-7K3Q-9P2M-4XZA7", "", ""},
		{"U is not a symbol", "LINK-7K3Q-9P2M-4XZU", "", ""},
		{"punctuation inside", "LINK-7K3Q-9P2M-4X.ZA", "", ""},
		{"separator inside a group", "LINK-7K 3Q-9P2M-4XZA", "", ""},
		{"word before prefix", "BLINK-7K3Q-9P2M-4XZA", "", ""},
		{"digit before prefix", "1VISIT-7K3Q-9P2M-4XZA", "", ""},
		{"letter after", link + "x", "", ""},
		{"non-ASCII letter after", link + "é", "", ""},
		{"unknown prefix", "CODE-7K3Q-9P2M-4XZA", "", ""},
		{"no plain digit", "LINK-ABCD-EFGH-JKMN", "", ""},
		{"only 0 and 1 digits", "LINK-A0CD-EF1H-JKMN", "", ""},
		{"sentence of four-letter words", "visit this page when you can", "", ""},
		{"sentence with a number", "visit page 2 today please", "", ""},
		{"link then words", "link your card with this app", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, code, ok := Find(tt.text)
			if ok != (tt.code != "") || code != tt.code || kind != tt.kind {
				t.Fatalf("Find(%q) = %q, %q, %v; want %q, %q", tt.text, kind, code, ok, tt.kind, tt.code)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		code string
	}{
		{"VISIT-7K3Q-9P2M-4XZA", Visitor, "VISIT-7K3Q-9P2M-4XZA"},
		{"  visit7k3q9p2m4xza\n", Visitor, "VISIT-7K3Q-9P2M-4XZA"},
		{"LINK 7K3Q 9P2M 4XZA", Link, "LINK-7K3Q-9P2M-4XZA"},
		{"", "", ""},
		{"code: VISIT-7K3Q-9P2M-4XZA", "", ""},
		{"VISIT-7K3Q-9P2M-4XZA thanks", "", ""},
		{"VISIT-7K3Q-9P2M-4XZA-", "", ""},
	}
	for _, tt := range tests {
		kind, code, ok := Parse(tt.in)
		if ok != (tt.code != "") || code != tt.code || kind != tt.kind {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q", tt.in, kind, code, ok, tt.kind, tt.code)
		}
	}
}

// FuzzFind checks that Find never panics, that whatever it returns is canonical, is
// found again on its own and by Parse, and is found again when typed sloppily; and
// that FindAll agrees with Find and each span it gives is exactly its code.
func FuzzFind(f *testing.F) {
	for _, seed := range []string{
		"LINK-7K3Q-9P2M-4XZA",
		"my code: visit 7k3q 9p2m 4xza!",
		"link LINK-8OOO-9P2M-4XZA",
		"VISIT\u2014 7K3Q\u00a09P2M4XZA",
		"visit this page when you can",
		"BLINK-7K3Q-9P2M-4XZA",
		"LINK-7K3Q-9P2M-4XZ",
		"\xff\xfeLINK-7K3Q-9P2M-4XZA\xff",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		kind, code, ok := Find(text)
		all := FindAll(text)
		if ok != (len(all) > 0) || ok && (all[0].Kind != kind || all[0].Code != code) {
			t.Fatalf("Find(%q) = %q, %q, %v but FindAll = %+v", text, kind, code, ok, all)
		}
		for i, m := range all {
			if k, c, ok := Parse(text[m.Start:m.End]); !ok || k != m.Kind || c != m.Code || i > 0 && m.Start < all[i-1].End {
				t.Fatalf("FindAll(%q): match %d %+v spans %q", text, i, m, text[m.Start:m.End])
			}
		}
		if !ok {
			if kind != "" || code != "" {
				t.Fatalf("Find(%q) returned %q, %q without ok", text, kind, code)
			}
			return
		}
		if !canonicalForm.MatchString(code) || !strings.HasPrefix(code, kind.Prefix()+"-") {
			t.Fatalf("Find(%q) = %q, %q: not canonical", text, kind, code)
		}
		if k, c, ok := Parse(code); !ok || k != kind || c != code {
			t.Fatalf("Parse(%q) = %q, %q, %v", code, k, c, ok)
		}
		sloppy := strings.ToLower(strings.ReplaceAll(code, "-", " "))
		if k, c, ok := Find("x " + sloppy + " y"); !ok || k != kind || c != code {
			t.Fatalf("Find(%q) = %q, %q, %v; want %q", sloppy, k, c, ok, code)
		}
		if !utf8.ValidString(code) {
			t.Fatalf("code %q is not valid UTF-8", code)
		}
	})
}

// FindAll finds every code in a text, each with where it was typed, so that the codes
// can be cut out and the rest of the text kept.
func TestFindAll(t *testing.T) {
	const text = "order 123: link 7k3q 9p2m 4xza, and (VISIT-8OOO-9P2M-4XZA). BLINK-7K3Q-9P2M-4XZA"
	got := FindAll(text)
	want := []Match{
		{Kind: Link, Code: "LINK-7K3Q-9P2M-4XZA", Start: 11, End: 30},
		{Kind: Visitor, Code: "VISIT-8000-9P2M-4XZA", Start: 37, End: 57},
	}
	if len(got) != len(want) {
		t.Fatalf("FindAll = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("match %d = %+v, want %+v", i, got[i], want[i])
		}
		if k, c, ok := Parse(text[got[i].Start:got[i].End]); !ok || k != got[i].Kind || c != got[i].Code {
			t.Errorf("the span of match %d, %q, is not the code", i, text[got[i].Start:got[i].End])
		}
	}
	if m := FindAll("nothing here, visit page 2"); len(m) != 0 {
		t.Errorf("FindAll found %+v", m)
	}
}
