package linkcode

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// kinds are tried in this order; no prefix is a prefix of another.
var kinds = []Kind{Link, Visitor}

// Find looks for a code in a chat message and returns the first one in its canonical
// form. Customers type codes as they like, so case does not matter, spaces and dashes
// may stand between the prefix and each group of four or be left out ("link 7k3q
// 9p2m 4xza", "LINK7K3Q9P2M4XZA"), and the look-alikes Crockford base32 allows are
// read as what they stand for (O as 0, I and L as 1). A code must stand as a word of
// its own: "BLINK-…" or a thirteenth character right after the code is no match.
// Finding a code says nothing of whether it exists: that is the store's to tell.
func Find(text string) (kind Kind, code string, ok bool) {
	m, ok := next(text, 0)
	return m.Kind, m.Code, ok
}

// Match is a code found in a text: its kind, its canonical form, and the bytes
// text[Start:End] it was typed as.
type Match struct {
	Kind       Kind
	Code       string
	Start, End int
}

// FindAll returns every code in text, in order, read as Find reads them, with where
// each was typed: what takes a code out of a message keeps the rest as it was.
func FindAll(text string) []Match {
	var out []Match
	for from := 0; ; {
		m, ok := next(text, from)
		if !ok {
			return out
		}
		out = append(out, m)
		from = m.End
	}
}

// next finds the first code that starts at byte from or later.
func next(text string, from int) (Match, bool) {
	for i := from; i < len(text); i++ {
		if !wordStartsAt(text, i) {
			continue
		}
		if kind, code, end, ok := matchAt(text, i); ok {
			return Match{Kind: kind, Code: code, Start: i, End: end}, true
		}
	}
	return Match{}, false
}

// Parse reads a string that is one code and nothing else (surrounding spaces aside),
// as a form field or an API would receive it, with the same leniency as Find.
func Parse(s string) (kind Kind, code string, ok bool) {
	s = strings.TrimSpace(s)
	kind, code, end, ok := matchAt(s, 0)
	if !ok || end != len(s) {
		return "", "", false
	}
	return kind, code, true
}

// matchAt reads a code that starts at byte i of text and returns where it ends.
func matchAt(text string, i int) (kind Kind, code string, end int, ok bool) {
	for _, k := range kinds {
		prefix := k.Prefix()
		if len(text)-i < len(prefix) || !strings.EqualFold(text[i:i+len(prefix)], prefix) {
			continue
		}
		payload, end, ok := readPayload(text, i+len(prefix))
		if !ok {
			return "", "", 0, false
		}
		return k, canonical(k, payload), end, true
	}
	return "", "", 0, false
}

// readPayload reads the groups after the prefix: separators are allowed before each
// group only, never inside one, so "LINK 7K 3Q…" and sentences of short words are no
// match. The code must end at a word boundary.
func readPayload(text string, i int) (payload []byte, end int, ok bool) {
	payload = make([]byte, 0, PayloadLen)
	for range groups {
		i = skipSeparators(text, i)
		// "link LINK-7K3Q-…" would otherwise read the second prefix as a group (L and
		// I stand for 1) and return a wrong code; no code has a group typed as LINK.
		if len(text)-i >= groupLen && strings.EqualFold(text[i:i+groupLen], "LINK") {
			return nil, 0, false
		}
		for range groupLen {
			if i >= len(text) {
				return nil, 0, false
			}
			c, ok := symbol(text[i])
			if !ok {
				return nil, 0, false
			}
			payload = append(payload, c)
			i++
		}
	}
	if i < len(text) {
		if r, _ := utf8.DecodeRuneInString(text[i:]); isWordRune(r) {
			return nil, 0, false
		}
	}
	if !hasPlainDigit(payload) {
		return nil, 0, false
	}
	return payload, i, true
}

// symbol maps a typed character to its canonical base32 symbol.
func symbol(c byte) (byte, bool) {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	switch c {
	case 'O':
		return '0', true
	case 'I', 'L':
		return '1', true
	}
	if strings.IndexByte(alphabet, c) < 0 {
		return 0, false
	}
	return c, true
}

func skipSeparators(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isSeparator(r) {
			break
		}
		i += size
	}
	return i
}

// isSeparator accepts spaces of any kind and dashes, including the ones phones put in
// place of a typed hyphen.
func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || r == '-' || (r >= '\u2010' && r <= '\u2015') || r == '\u2212'
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

// wordStartsAt reports whether a word could start at byte i: a prefix letter that is
// not preceded by a letter or digit.
func wordStartsAt(text string, i int) bool {
	switch text[i] {
	case 'L', 'l', 'V', 'v':
	default:
		return false
	}
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return !isWordRune(r)
}
