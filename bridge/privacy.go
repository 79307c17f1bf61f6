package bridge

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/linkcode"
)

// hiddenID replaces a customer's Matrix ID or homeserver name, and any link or visitor
// code, in what staff see.
const hiddenID = "[hidden]"

// privacyFilter removes from event content bound for a staff room the customer's
// Matrix ID and homeserver name, and link and visitor codes (secrets between the
// customer and the tenant). It works on every string of the whole JSON, keys included,
// so no field (body, formatted body, file name, edits, reaction keys, anything a
// client adds) can slip through. It finds them however they are written: in any case,
// since server names are case-insensitive and readers do not care either, and through
// the encodings that links, JSON, scripts and HTML use, also nested (see readings).
type privacyFilter struct {
	userID, server string // lowercase
}

func newPrivacyFilter(customer id.UserID) *privacyFilter {
	return &privacyFilter{userID: strings.ToLower(customer.String()), server: strings.ToLower(customer.Homeserver())}
}

// apply marshals content and filters it.
func (f *privacyFilter) apply(content any) (json.RawMessage, error) {
	data, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err = dec.Decode(&tree); err != nil {
		return nil, err
	}
	return json.Marshal(f.walk(tree))
}

func (f *privacyFilter) walk(v any) any {
	switch v := v.(type) {
	case string:
		return f.text(v)
	case []any:
		for i := range v {
			v[i] = f.walk(v[i])
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, value := range v {
			out[f.text(key)] = f.walk(value)
		}
		return out
	}
	return v
}

// text replaces every part of s that reads, in any of its readings, as the customer's
// Matrix ID or server name or as a code.
func (f *privacyFilter) text(s string) string {
	var hide []span
	for _, r := range readings(s) {
		hide = append(hide, f.find(r)...)
	}
	if len(hide) == 0 {
		return s
	}
	slices.SortFunc(hide, func(a, b span) int { return a.start - b.start })
	merged := hide[:1]
	for _, h := range hide[1:] {
		if last := &merged[len(merged)-1]; h.start <= last.end {
			last.end = max(last.end, h.end)
		} else {
			merged = append(merged, h)
		}
	}
	var out strings.Builder
	at := 0
	for _, h := range merged {
		out.WriteString(s[at:h.start])
		out.WriteString(hiddenID)
		at = h.end
	}
	out.WriteString(s[at:])
	return out.String()
}

// find returns, as spans of the original string, where a reading holds what is hidden.
func (f *privacyFilter) find(r reading) []span {
	var found []span
	for _, m := range indexAll(r.text, f.userID) {
		found = append(found, r.original(m, m+len(f.userID)))
	}
	// The server name alone must stand as a name of its own: another server whose name
	// merely contains it (bighome.example, home.examples.org) is not the customer's.
	// A subdomain of it still names it.
	for _, m := range indexAll(r.text, f.server) {
		end := m + len(f.server)
		if (m == 0 || !isHostByte(r.text[m-1])) && (end == len(r.text) || !isHostByte(r.text[end])) {
			found = append(found, r.original(m, end))
		}
	}
	for _, m := range linkcode.FindAll(string(r.text)) {
		found = append(found, r.original(m.Start, m.End))
	}
	return found
}

// indexAll returns where sub starts in text, overlapping matches included.
func indexAll(text []byte, sub string) []int {
	var at []int
	if sub == "" {
		return nil
	}
	for i := 0; ; i++ {
		n := bytes.Index(text[i:], []byte(sub))
		if n < 0 {
			return at
		}
		i += n
		at = append(at, i)
	}
}

// isHostByte tells whether c can continue a host name's label (a dot starts a new
// one, which is why it is not here).
func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
