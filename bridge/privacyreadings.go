package bridge

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// A reading is a text in lowercase as it reads once some layers of encoding are
// undone, each of its bytes traced back to the bytes of the original it stands for:
// the privacy filter looks for what it hides in every reading, and hides the
// original bytes.
type reading struct {
	text     []byte
	from, to []int // text[i] stands for original[from[i]:to[i]]
}

// span is a part of the original string, s[start:end].
type span struct{ start, end int }

// original is the part of the original string that text[start:end] stands for.
func (r reading) original(start, end int) span { return span{r.from[start], r.to[end-1]} }

func (r *reading) add(c byte, from, to int) {
	r.text = append(r.text, c)
	r.from = append(r.from, from)
	r.to = append(r.to, to)
}

// maxEncodingDepth bounds how many layers of encoding are undone: a link encoded
// twice is common (a URL inside a query parameter), more layers are not.
const maxEncodingDepth = 4

// readings returns s in lowercase, then with one layer of escapes undone, then two,
// until nothing is left to undo.
func readings(s string) []reading {
	first := reading{text: make([]byte, 0, len(s)), from: make([]int, 0, len(s)), to: make([]int, 0, len(s))}
	for i := 0; i < len(s); i++ {
		first.add(lowerASCII(s[i]), i, i+1)
	}
	out := []reading{first}
	for len(out) <= maxEncodingDepth {
		next, undone := out[len(out)-1].undoEscapes()
		if !undone {
			break
		}
		out = append(out, next)
	}
	return out
}

// undoEscapes decodes one layer of percent-encoding (%40), JSON and JavaScript escapes
// (\u0040, \x40) and HTML character references (&#64;, &#x40;, &commat;).
func (r reading) undoEscapes() (reading, bool) {
	var out reading
	undone := false
	for i := 0; i < len(r.text); {
		decoded, n := escapeAt(r.text[i:])
		if n == 0 {
			out.add(r.text[i], r.from[i], r.to[i])
			i++
			continue
		}
		for _, c := range decoded {
			out.add(lowerASCII(c), r.from[i], r.to[i+n-1])
		}
		i += n
		undone = true
	}
	return out, undone
}

// escapeAt reads an escape at the start of text (lowercase): what it stands for and
// its length, or 0.
func escapeAt(text []byte) ([]byte, int) {
	switch text[0] {
	case '%':
		if v, ok := hexValue(text, 1, 2); ok {
			return []byte{byte(v)}, 3
		}
	case '\\':
		if len(text) > 1 && text[1] == 'u' {
			if v, ok := hexValue(text, 2, 4); ok && utf8.ValidRune(rune(v)) {
				return utf8.AppendRune(nil, rune(v)), 6
			}
		} else if len(text) > 1 && text[1] == 'x' {
			if v, ok := hexValue(text, 2, 2); ok {
				return []byte{byte(v)}, 4
			}
		}
	case '&':
		return characterReference(text)
	}
	return nil, 0
}

// namedReferences are the HTML character references of the characters that Matrix
// IDs, server names and codes are written with (longest first where one is a prefix
// of another: browsers read "&amp" without its semicolon too).
var namedReferences = []struct{ name, char string }{
	{"&amp;", "&"}, {"&amp", "&"}, {"&commat;", "@"}, {"&colon;", ":"}, {"&period;", "."},
	{"&sol;", "/"}, {"&lowbar;", "_"}, {"&hyphen;", "-"}, {"&dash;", "-"}, {"&minus;", "-"},
	{"&percnt;", "%"}, {"&bsol;", "\\"}, {"&num;", "#"}, {"&equals;", "="},
}

// characterReference reads &#64; or &#x40; (browsers read them without the semicolon
// too) or one of namedReferences.
func characterReference(text []byte) ([]byte, int) {
	if len(text) > 2 && text[1] == '#' {
		start, base := 2, 10
		if text[2] == 'x' {
			start, base = 3, 16
		}
		v, n := 0, start
		for ; n < len(text) && n-start < 8; n++ {
			d := digitValue(text[n])
			if d < 0 || d >= base {
				break
			}
			v = v*base + d
		}
		if n == start || v == 0 || v > unicode.MaxRune || !utf8.ValidRune(rune(v)) {
			return nil, 0
		}
		if n < len(text) && text[n] == ';' {
			n++
		}
		return utf8.AppendRune(nil, rune(v)), n
	}
	for _, ref := range namedReferences {
		if bytes.HasPrefix(text, []byte(ref.name)) {
			return []byte(ref.char), len(ref.name)
		}
	}
	return nil, 0
}

// hexValue reads n hex digits at text[at:].
func hexValue(text []byte, at, n int) (int, bool) {
	if len(text) < at+n {
		return 0, false
	}
	v := 0
	for _, c := range text[at : at+n] {
		d := digitValue(c)
		if d < 0 || d >= 16 {
			return 0, false
		}
		v = v*16 + d
	}
	return v, true
}

// digitValue is the value of a (lowercase) hex digit, or -1.
func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
