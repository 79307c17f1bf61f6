package linkcode

import (
	"regexp"
	"strings"
	"testing"
)

var canonicalForm = regexp.MustCompile(`^(LINK|VISIT)-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

func TestNewIsCanonicalAndFindable(t *testing.T) {
	for _, kind := range []Kind{Link, Visitor} {
		for range 500 {
			code := New(kind)
			if !canonicalForm.MatchString(code) {
				t.Fatalf("New(%s) = %q, not in canonical form", kind, code)
			}
			if !strings.HasPrefix(code, kind.Prefix()+"-") {
				t.Fatalf("New(%s) = %q, wrong prefix", kind, code)
			}
			if !strings.ContainsAny(code[len(kind.Prefix()):], "23456789") {
				t.Fatalf("New(%s) = %q holds none of the digits 2-9", kind, code)
			}
			gotKind, got, ok := Find("here: " + strings.ToLower(code) + ".")
			if !ok || got != code || gotKind != kind {
				t.Fatalf("Find(lowercase %q) = %s %q %v", code, gotKind, got, ok)
			}
		}
	}
}

// TestNewUsesWholeAlphabet checks that the random characters are spread over all 32
// symbols, which a wrong mask or a short alphabet would break.
func TestNewUsesWholeAlphabet(t *testing.T) {
	counts := map[rune]int{}
	const n = 2000
	for range n {
		code := New(Link)
		for _, r := range strings.ReplaceAll(code[len("LINK-"):], "-", "") {
			counts[r]++
		}
	}
	if len(counts) != len(alphabet) {
		t.Fatalf("saw %d distinct symbols, want %d: %v", len(counts), len(alphabet), counts)
	}
	expected := n * PayloadLen / len(alphabet) // 750
	for r, c := range counts {
		// Digits 2-9 are a little more frequent because of the redraw rule.
		if c < expected/2 || c > expected*2 {
			t.Errorf("symbol %q seen %d times, expected about %d", r, c, expected)
		}
	}
}

func TestNewIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		code := New(Visitor)
		if seen[code] {
			t.Fatalf("duplicate code %q", code)
		}
		seen[code] = true
	}
}

func TestNewPanicsOnUnknownKind(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(\"bogus\") did not panic")
		}
	}()
	New("bogus")
}

func TestHash(t *testing.T) {
	// echo -n LINK-7K3Q-9P2M-4XZA | sha256sum
	const want = "a30d71d3bb54988c60ac0ee379f0c2ec8a38bb5d6b1283c6f112628cac1bc4d2"
	if got := Hash("LINK-7K3Q-9P2M-4XZA"); got != want {
		t.Fatalf("Hash = %q, want %q", got, want)
	}
	if Hash("LINK-7K3Q-9P2M-4XZA") == Hash("VISIT-7K3Q-9P2M-4XZA") {
		t.Fatal("a link code and a visitor code with the same payload share a hash")
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind   Kind
		prefix string
		valid  bool
	}{
		{Link, "LINK", true},
		{Visitor, "VISIT", true},
		{"", "", false},
		{"LINK", "", false},
	}
	for _, tt := range tests {
		if got := tt.kind.Prefix(); got != tt.prefix {
			t.Errorf("Kind(%q).Prefix() = %q, want %q", tt.kind, got, tt.prefix)
		}
		if got := tt.kind.Valid(); got != tt.valid {
			t.Errorf("Kind(%q).Valid() = %v, want %v", tt.kind, got, tt.valid)
		}
	}
}
