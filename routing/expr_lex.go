package routing

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ExprError is a syntax or type error in a routing expression, at a column (1-based,
// in characters) of its text.
type ExprError struct {
	Column int
	Msg    string
}

func (e *ExprError) Error() string { return fmt.Sprintf("expression: column %d: %s", e.Column, e.Msg) }

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokInt
	tokOp // == != < <= > >=
	tokLParen
	tokRParen
)

type token struct {
	kind tokenKind
	text string // identifiers lowercased, strings unquoted, operators as written
	num  int
	col  int
}

// describe names a token in an error message.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "the end"
	}
	return strconv.Quote(t.text)
}

const maxExprLen = 2000

func isIdentStart(r rune) bool { return r == '_' || r < unicode.MaxASCII && unicode.IsLetter(r) }
func isIdentPart(r rune) bool {
	return isIdentStart(r) || r == '-' || r >= '0' && r <= '9'
}

// lex splits an expression into tokens. Identifiers are read case-insensitively;
// "task.tier" is one identifier.
func lex(src string) ([]token, error) {
	rs := []rune(src)
	if len(rs) > maxExprLen {
		return nil, &ExprError{1, fmt.Sprintf("longer than %d characters", maxExprLen)}
	}
	var toks []token
	for i := 0; i < len(rs); {
		r, col := rs[i], i+1
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", col: col})
			i++
		case r == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", col: col})
			i++
		case strings.ContainsRune("=!<>", r):
			op := string(r)
			if i+1 < len(rs) && rs[i+1] == '=' {
				op += "="
			}
			if op == "=" || op == "!" {
				return nil, &ExprError{col, fmt.Sprintf("unknown operator %q; use == or !=, and not for negation", op)}
			}
			toks = append(toks, token{kind: tokOp, text: op, col: col})
			i += len(op)
		case r == '"' || r == '\'':
			s, n, err := lexString(rs[i:], col)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokString, text: s, col: col})
			i += n
		case r >= '0' && r <= '9':
			j := i
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(string(rs[i:j]))
			if err != nil || n > 1_000_000 {
				return nil, &ExprError{col, fmt.Sprintf("number %s is too large", string(rs[i:j]))}
			}
			if j < len(rs) && isIdentStart(rs[j]) {
				return nil, &ExprError{col, fmt.Sprintf("%q is neither a number nor a name", string(rs[i:j+1]))}
			}
			toks = append(toks, token{kind: tokInt, text: string(rs[i:j]), num: n, col: col})
			i = j
		case isIdentStart(r):
			j := i
			for j < len(rs) && isIdentPart(rs[j]) {
				j++
			}
			name := strings.ToLower(string(rs[i:j]))
			if name == "task" {
				if j >= len(rs) || rs[j] != '.' || j+1 >= len(rs) || !isIdentStart(rs[j+1]) {
					return nil, &ExprError{col, "task needs an attribute: " + taskAttrList}
				}
				j++
				for j < len(rs) && isIdentPart(rs[j]) {
					j++
				}
				name = strings.ToLower(string(rs[i:j]))
			}
			toks = append(toks, token{kind: tokIdent, text: name, col: col})
			i = j
		default:
			return nil, &ExprError{col, fmt.Sprintf("unexpected character %q", r)}
		}
	}
	return append(toks, token{kind: tokEOF, col: len(rs) + 1}), nil
}

// lexString reads a quoted string at the start of rs: \" \' and \\ escape. It returns
// the text and how many runes it took.
func lexString(rs []rune, col int) (string, int, error) {
	quote := rs[0]
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		switch rs[i] {
		case quote:
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(rs) && (rs[i+1] == quote || rs[i+1] == '\\') {
				i++
				b.WriteRune(rs[i])
				continue
			}
			return "", 0, &ExprError{col + i, `unknown escape; only \\ and \` + string(quote) + ` are allowed`}
		default:
			b.WriteRune(rs[i])
		}
	}
	return "", 0, &ExprError{col, "string is not closed"}
}
