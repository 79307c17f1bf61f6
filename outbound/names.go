package outbound

import (
	"slices"
	"strings"
)

// categoriesOf lists the consent categories an expression reads, contact first and
// the rest sorted, from the names in its text: routing parses expressions but does
// not say which names they hold, and a trigger must know before it reads anything.
// src must be an expression routing.ParseExpr accepted; names inside strings are
// text, not names.
func categoriesOf(src string) []string {
	set := map[string]bool{}
	for _, name := range exprNames(src) {
		switch name {
		case "and", "or", "not", "contains", "true", "false":
		case "task.tier":
			set[CategoryAccount] = true
		case "task.region", "task.language", "region", "language":
			set[CategoryLocation] = true
		case "task.anonymous":
			set[CategoryIdentity] = true
		default: // task.topics, and any other name is a count of a topic's page views
			set[CategoryBrowsing] = true
		}
	}
	out := []string{CategoryContact}
	for c := range set {
		out = append(out, c)
	}
	slices.Sort(out[1:])
	return out
}

func isNameStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func isNamePart(r rune) bool { return isNameStart(r) || r == '-' || r >= '0' && r <= '9' }

// exprNames lists the names of an expression, lowercased, as routing's lexer reads
// them: task.x is one name; numbers and quoted strings (with \\ and \" or \'
// escapes) are skipped.
func exprNames(src string) []string {
	rs := []rune(src)
	var out []string
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '"' || r == '\'':
			i++
			for i < len(rs) && rs[i] != r {
				if rs[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case r >= '0' && r <= '9':
			for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
				i++
			}
		case isNameStart(r):
			j := i
			for j < len(rs) && isNamePart(rs[j]) {
				j++
			}
			if strings.EqualFold(string(rs[i:j]), "task") && j+1 < len(rs) && rs[j] == '.' {
				j++
				for j < len(rs) && isNamePart(rs[j]) {
					j++
				}
			}
			out = append(out, strings.ToLower(string(rs[i:j])))
			i = j
		default:
			i++
		}
	}
	return out
}
