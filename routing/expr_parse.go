package routing

import (
	"fmt"
	"strings"
)

// Expr is a parsed routing expression over an agent and a task, such as
//
//	mortgage >= 3 and language == "pt"
//	cards >= 2 or region == task.region
//	not (task.tier == "gold") and task.topics contains "mortgage"
//
// Names: a skill name is the agent's proficiency in it (0 if they lack it); language
// and region are the agent's lists, and language == "pt" holds when "pt" is among
// them (!= is its negation; contains is a synonym of ==); task.tier, task.region,
// task.language (text), task.anonymous (true or false) and task.topics (a list, with
// contains) are the task's. Literals: "text" or 'text', whole numbers, true, false.
// Operators: == != < <= > >= contains, not, and, or, parentheses; not binds tighter
// than and, and than or. Names, keywords and text compare without case.
//
// Unknown task attributes: an empty task field is unknown, and a comparison that
// involves one is neither true nor false. Logic is three-valued (Kleene): "x or y"
// holds when either side holds, "not" of unknown is unknown, and an expression that
// ends up unknown does not match. So `not (task.tier == "gold")` does not match a
// task of unknown tier, while `cards >= 2 or task.tier == "gold"` still matches an
// agent with cards 2.
//
// Types are checked when parsing; the parsed form is in negation normal form so that
// a task can be substituted in (leaving an expression over the agent alone) and
// agents matched quickly.
type Expr struct {
	src        string
	root       node
	usesAgent  bool
	usesTask   bool
	staticSpec node          // root specialised for any task, when it uses no task attribute
	taskFields []operandKind // the task attributes it uses, for taskKey
}

const maxExprDepth = 50

const taskAttrList = "task.tier, task.region, task.language, task.anonymous or task.topics"

// ParseExpr parses and type-checks a routing expression.
func ParseExpr(src string) (*Expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, &ExprError{t.col, `")" without a matching "("`}
		}
		return nil, &ExprError{t.col, fmt.Sprintf("expected and, or or the end, found %s", t.describe())}
	}
	e := &Expr{src: src, root: root}
	e.usesAgent, e.usesTask = root.uses()
	if !e.usesTask {
		e.staticSpec = root.spec(&Task{})
	}
	e.taskFields = taskFieldsOf(root)
	return e, nil
}

// String is the expression as written.
func (e *Expr) String() string { return e.src }

// UsesAgent tells whether the expression names an agent attribute (skill, language,
// region); UsesTask whether it names a task attribute.
func (e *Expr) UsesAgent() bool { return e.usesAgent }
func (e *Expr) UsesTask() bool  { return e.usesTask }

// Match evaluates the expression for one agent and task. Routers do not call it per
// agent: they specialise the expression for the task once and keep matching sets.
func (e *Expr) Match(s *Staff, t *Task) bool {
	return e.specialise(t).eval(newAgentAttrs(s))
}

// specialise substitutes the task, leaving a node over agent attributes only (or a
// constant).
func (e *Expr) specialise(t *Task) node {
	if e.staticSpec != nil {
		return e.staticSpec
	}
	return e.root.spec(t)
}

type parser struct {
	toks  []token
	pos   int
	depth int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}
func (p *parser) peekKeyword(word string) bool {
	t := p.peek()
	return t.kind == tokIdent && t.text == word
}

func (p *parser) parseOr() (node, error) {
	return p.parseJoined("or", p.parseAnd, func(xs []node) node { return &orNode{xs} })
}

func (p *parser) parseAnd() (node, error) {
	return p.parseJoined("and", p.parseUnary, func(xs []node) node { return &andNode{xs} })
}

// parseJoined reads operands joined by a keyword, flattening them into one node.
func (p *parser) parseJoined(word string, operand func() (node, error), join func([]node) node) (node, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	xs := []node{x}
	for p.peekKeyword(word) {
		p.next()
		if p.peek().kind == tokEOF {
			return nil, &ExprError{p.peek().col, "expected a condition after " + word}
		}
		y, err := operand()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return join(flatten(xs, word)), nil
}

// flatten merges nested nodes of the same kind: (a and b) and c is a and b and c.
func flatten(xs []node, word string) []node {
	var out []node
	for _, x := range xs {
		switch n := x.(type) {
		case *andNode:
			if word == "and" {
				out = append(out, n.xs...)
				continue
			}
		case *orNode:
			if word == "or" {
				out = append(out, n.xs...)
				continue
			}
		}
		out = append(out, x)
	}
	return out
}

func (p *parser) enter(col int) error {
	p.depth++
	if p.depth > maxExprDepth {
		return &ExprError{col, fmt.Sprintf("nested more than %d deep", maxExprDepth)}
	}
	return nil
}

func (p *parser) parseUnary() (node, error) {
	if p.peekKeyword("not") {
		t := p.next()
		if err := p.enter(t.col); err != nil {
			return nil, err
		}
		if p.peek().kind == tokEOF {
			return nil, &ExprError{p.peek().col, "expected a condition after not"}
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		p.depth--
		return x.negate(), nil
	}
	return p.parseComparison()
}

func (p *parser) parseComparison() (node, error) {
	if t := p.peek(); t.kind == tokLParen {
		p.next()
		if err := p.enter(t.col); err != nil {
			return nil, err
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, &ExprError{c.col, fmt.Sprintf("expected ) to close the ( at column %d, found %s", t.col, c.describe())}
		}
		p.depth--
		return x, nil
	}
	left, err := p.parseOperand("")
	if err != nil {
		return nil, err
	}
	op := p.peek()
	if op.kind != tokOp && !(op.kind == tokIdent && op.text == "contains") {
		if left.typ() == typeBool {
			return newBoolAtom("==", left, operand{kind: opdBool, b: true}), nil
		}
		return nil, &ExprError{left.col, fmt.Sprintf("%s is %s, not a condition; compare it (e.g. with == or >=)", left.name(), left.typ())}
	}
	p.next()
	right, err := p.parseOperand(op.text)
	if err != nil {
		return nil, err
	}
	return buildAtom(left, op, right)
}

// parseOperand reads a value; after names the operator before it, for messages.
func (p *parser) parseOperand(after string) (operand, error) {
	t := p.next()
	expected := func() error {
		msg := "expected a value"
		if after != "" {
			msg += " after " + after
		}
		if t.kind != tokEOF {
			msg += ", found " + t.describe()
		}
		return &ExprError{t.col, msg}
	}
	switch t.kind {
	case tokInt:
		return operand{kind: opdInt, num: t.num, col: t.col}, nil
	case tokString:
		return operand{kind: opdText, text: strings.ToLower(t.text), col: t.col}, nil
	case tokIdent:
		switch t.text {
		case "and", "or", "not", "contains":
			return operand{}, expected()
		case "true", "false":
			return operand{kind: opdBool, b: t.text == "true", col: t.col}, nil
		case "language":
			return operand{kind: opdAgentLanguages, col: t.col}, nil
		case "region":
			return operand{kind: opdAgentRegions, col: t.col}, nil
		}
		if strings.HasPrefix(t.text, "task.") {
			kind, ok := taskOperands[t.text]
			if !ok {
				return operand{}, &ExprError{t.col, fmt.Sprintf("unknown task attribute %s; use %s", t.text, taskAttrList)}
			}
			return operand{kind: kind, col: t.col}, nil
		}
		return operand{kind: opdSkill, text: t.text, col: t.col}, nil
	}
	return operand{}, expected()
}

var taskOperands = map[string]operandKind{
	"task.tier": opdTaskTier, "task.region": opdTaskRegion, "task.language": opdTaskLanguage,
	"task.anonymous": opdTaskAnonymous, "task.topics": opdTaskTopics,
}

// reservedWords cannot be skill names: expressions would read them otherwise.
var reservedWords = map[string]bool{
	"and": true, "or": true, "not": true, "contains": true, "true": true, "false": true,
	"language": true, "region": true, "task": true,
}

// isSkillName tells whether a skill can be named in an expression.
func isSkillName(s string) bool {
	if s == "" || reservedWords[strings.ToLower(s)] {
		return false
	}
	for i, r := range s {
		if i == 0 && !isIdentStart(r) || !isIdentPart(r) {
			return false
		}
	}
	return true
}

// taskFieldsOf lists the task attributes a node reads, in a fixed order.
func taskFieldsOf(root node) []operandKind {
	used := map[operandKind]bool{}
	walkNodes(root, func(n node) {
		switch n := n.(type) {
		case *textAtom:
			used[n.l.field], used[n.r.field] = true, true
		case *setAtom:
			used[n.val.field] = true
		case *topicsAtom:
			used[n.val.field], used[opdTaskTopics] = true, true
		case *boolAtom:
			used[opdTaskAnonymous] = n.l.anonymous || n.r.anonymous
		}
	})
	var out []operandKind
	for _, k := range []operandKind{opdTaskTier, opdTaskRegion, opdTaskLanguage, opdTaskAnonymous, opdTaskTopics} {
		if used[k] {
			out = append(out, k)
		}
	}
	return out
}

// taskKey is the values of the task attributes the expression reads: tasks with
// equal keys specialise it alike, so routers cache by it. With one text attribute
// the key is its value, made without allocating.
func (e *Expr) taskKey(t *Task) string {
	field := func(k operandKind) string {
		switch k {
		case opdTaskTier:
			return t.Tier
		case opdTaskRegion:
			return t.Region
		case opdTaskLanguage:
			return t.Language
		case opdTaskAnonymous:
			if t.Anonymous {
				return "1"
			}
			return "0"
		}
		return strings.Join(t.Topics, "\x01")
	}
	if len(e.taskFields) == 1 {
		return field(e.taskFields[0])
	}
	var b strings.Builder
	for _, k := range e.taskFields {
		b.WriteString(field(k))
		b.WriteByte(0)
	}
	return b.String()
}
