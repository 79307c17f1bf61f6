package transport

import (
	"fmt"
	"strings"
)

// Key builds an outbox dedupe key from a kind ("reply", "relay", ...) and the parts
// that make the decision unique (the event handled, the target room, ...), joined by
// "|". Keys are stored and compared (the event map finds copies by them), so one
// builder keeps their shape the same everywhere.
func Key(kind string, parts ...any) string {
	var b strings.Builder
	b.WriteString(kind)
	for _, p := range parts {
		b.WriteByte('|')
		fmt.Fprint(&b, p)
	}
	return b.String()
}
