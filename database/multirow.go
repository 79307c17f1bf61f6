package database

import (
	"strconv"
	"strings"
	"sync"
)

// multiRowInsert builds "INSERT ... VALUES ($1, ...), ($n, ...) ..." for a number of
// rows, once per number: the text must be the same on every call for the connection's
// prepared statement to be reused (see stmtcache.go).
type multiRowInsert struct {
	head    string
	columns int
	tail    string
	built   sync.Map // rows (int) -> query (string)
}

func (m *multiRowInsert) query(rows int) string {
	if q, ok := m.built.Load(rows); ok {
		return q.(string)
	}
	var sb strings.Builder
	sb.WriteString(m.head)
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range m.columns {
			if c > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(r*m.columns + c + 1))
		}
		sb.WriteByte(')')
	}
	sb.WriteString(m.tail)
	q, _ := m.built.LoadOrStore(rows, sb.String())
	return q.(string)
}
