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
	// into is "INSERT INTO table (columns)".
	into    string
	columns int
	// casts are the types of the columns that are not text, written after their
	// placeholders where the VALUES list is not the INSERT's own (insertIf): there
	// PostgreSQL takes a parameter for text.
	casts map[int]string
	tail  string
	built sync.Map // rows (int) -> query (string)
}

func (m *multiRowInsert) query(rows int) string {
	if q, ok := m.built.Load(rows); ok {
		return q.(string)
	}
	q, _ := m.built.LoadOrStore(rows, m.queryFrom(rows, 1))
	return q.(string)
}

// queryFrom builds the statement with placeholders numbered from first (to follow
// another statement's in one text).
func (m *multiRowInsert) queryFrom(rows, first int) string {
	var sb strings.Builder
	sb.WriteString(m.into + " VALUES ")
	tuples(&sb, rows, m.columns, first, nil)
	sb.WriteString(m.tail)
	return sb.String()
}

// insertIf writes the statement inserting its rows only if the WITH query named cond
// returned a row (PostgreSQL), placeholders numbered from first.
func (m *multiRowInsert) insertIf(sb *strings.Builder, rows, first int, cond string) {
	sb.WriteString(m.into + " SELECT * FROM (VALUES ")
	tuples(sb, rows, m.columns, first, m.casts)
	sb.WriteString(") AS v WHERE EXISTS (SELECT 1 FROM " + cond + ")" + m.tail)
}

// tuples writes rows tuples of placeholders numbered from first:
// "($first, $first+1), ($first+2, $first+3)" for two rows of two columns, each column
// with its cast, if any.
func tuples(sb *strings.Builder, rows, columns, first int, casts map[int]string) {
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range columns {
			if c > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(r*columns + c + first))
			sb.WriteString(casts[c])
		}
		sb.WriteByte(')')
	}
}

// variadicQuery is SQL over a list of n items, built once per n for the same reason.
type variadicQuery struct {
	build func(sb *strings.Builder, n int)
	built sync.Map // n (int) -> query (string)
}

func (v *variadicQuery) query(n int) string {
	if q, ok := v.built.Load(n); ok {
		return q.(string)
	}
	var sb strings.Builder
	v.build(&sb, n)
	q, _ := v.built.LoadOrStore(n, sb.String())
	return q.(string)
}

// placeholders writes n placeholders, "$first, $first+step, ...".
func placeholders(sb *strings.Builder, n, first, step int) {
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('$')
		sb.WriteString(strconv.Itoa(first + i*step))
	}
}

// caseOf writes "CASE column WHEN $first THEN $first+1 WHEN $first+2 ... END": the
// value paired with each key, for an UPDATE that sets a different value per row.
func caseOf(sb *strings.Builder, column string, n, first int) {
	sb.WriteString("CASE " + column)
	for i := range n {
		k := first + 2*i
		sb.WriteString(" WHEN $" + strconv.Itoa(k) + " THEN $" + strconv.Itoa(k+1))
	}
	sb.WriteString(" END")
}

// updateByKey is "UPDATE table SET column = CASE key WHEN ... THEN ... END<more> WHERE
// key IN (...)" over n key/value pairs whose placeholders start at $first: a different
// value per row in one statement.
func updateByKey(table, column, key, more string, first int) *variadicQuery {
	return &variadicQuery{build: func(sb *strings.Builder, n int) {
		sb.WriteString("UPDATE " + table + " SET " + column + " = ")
		caseOf(sb, key, n, first)
		sb.WriteString(more + " WHERE " + key + " IN (")
		placeholders(sb, n, first, 2)
		sb.WriteByte(')')
	}}
}

// listArgs makes the arguments of a statement over a list: the leading ones, then the
// items.
func listArgs[T any](lead []any, items []T) []any {
	args := append(make([]any, 0, len(lead)+len(items)), lead...)
	for _, item := range items {
		args = append(args, item)
	}
	return args
}

// pairArgs flattens key/value pairs into arguments, after the leading ones.
func pairArgs[K, V any](lead []any, keys []K, values []V) []any {
	args := append(make([]any, 0, len(lead)+2*len(keys)), lead...)
	for i := range keys {
		args = append(args, keys[i], values[i])
	}
	return args
}
