package routing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// node is a part of a parsed expression, in negation normal form: "not" has been
// pushed into the comparisons. That makes substituting a task sound under
// three-valued logic: an unknown comparison can be replaced by false, because with
// no "not" above it, unknown and false lead to the same verdict (no match).
type node interface {
	negate() node
	// spec substitutes the task: the result names agent attributes only.
	spec(t *Task) node
	// eval matches an agent; only on spec results.
	eval(a *agentAttrs) bool
	// write renders the node canonically: equal renderings match the same agents.
	write(b *strings.Builder)
	// explain says in words why a matching agent matches.
	explain(a *agentAttrs, out []string) []string
	uses() (agent, task bool)
}

// agentAttrs are an agent's attributes as expressions read them, names lowercased.
type agentAttrs struct {
	skills             map[string]int
	languages, regions []string
}

func newAgentAttrs(s *Staff) *agentAttrs {
	a := &agentAttrs{skills: make(map[string]int, len(s.Skills))}
	for k, v := range s.Skills {
		a.skills[strings.ToLower(k)] = v
	}
	for _, l := range s.Languages {
		a.languages = append(a.languages, strings.ToLower(l))
	}
	for _, r := range s.Regions {
		a.regions = append(a.regions, strings.ToLower(r))
	}
	return a
}

type operandKind uint8

const (
	opdSkill operandKind = iota + 1
	opdInt
	opdText
	opdBool
	opdTaskTier
	opdTaskRegion
	opdTaskLanguage
	opdTaskAnonymous
	opdTaskTopics
	opdAgentLanguages
	opdAgentRegions
)

type valueType uint8

const (
	typeNumber valueType = iota + 1
	typeText
	typeBool
	typeAgentList
	typeTaskList
)

func (t valueType) String() string {
	return [...]string{"", "a number", "text", "true or false", "the agent's list", "a list"}[t]
}

type operand struct {
	kind operandKind
	text string // skill name or text literal, lowercased
	num  int
	b    bool
	col  int
}

func (o operand) typ() valueType {
	switch o.kind {
	case opdSkill, opdInt:
		return typeNumber
	case opdText, opdTaskTier, opdTaskRegion, opdTaskLanguage:
		return typeText
	case opdBool, opdTaskAnonymous:
		return typeBool
	case opdAgentLanguages, opdAgentRegions:
		return typeAgentList
	}
	return typeTaskList
}

func (o operand) name() string {
	switch o.kind {
	case opdSkill:
		return o.text
	case opdInt:
		return strconv.Itoa(o.num)
	case opdText:
		return strconv.Quote(o.text)
	case opdBool:
		return strconv.FormatBool(o.b)
	case opdAgentLanguages:
		return "language"
	case opdAgentRegions:
		return "region"
	}
	for name, k := range taskOperands {
		if k == o.kind {
			return name
		}
	}
	return "?"
}

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var opTexts = [...]string{"==", "!=", "<", "<=", ">", ">="}
var opSymbols = [...]string{"=", "≠", "<", "≤", ">", "≥"}

func (o cmpOp) negate() cmpOp { return [...]cmpOp{opNe, opEq, opGe, opGt, opLe, opLt}[o] }
func (o cmpOp) mirror() cmpOp { return [...]cmpOp{opEq, opNe, opGt, opGe, opLt, opLe}[o] }
func (o cmpOp) holds(a, b int) bool {
	switch o {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opLe:
		return a <= b
	case opGt:
		return a > b
	}
	return a >= b
}

// buildAtom type-checks a comparison and builds its node.
func buildAtom(l operand, opTok token, r operand) (node, error) {
	lt, rt := l.typ(), r.typ()
	mismatch := func() error {
		return &ExprError{opTok.col, fmt.Sprintf("cannot compare %s (%s) with %s (%s) using %s", l.name(), lt, r.name(), rt, opTok.text)}
	}
	if opTok.text == "contains" {
		if lt != typeAgentList && lt != typeTaskList {
			return nil, &ExprError{opTok.col, fmt.Sprintf("contains needs language, region or task.topics on its left, not %s", l.name())}
		}
		if rt != typeText {
			return nil, &ExprError{r.col, fmt.Sprintf("contains needs text on its right, not %s (%s)", r.name(), rt)}
		}
		if lt == typeTaskList {
			return &topicsAtom{val: textTermOf(r)}, nil
		}
		return &setAtom{regions: l.kind == opdAgentRegions, val: textTermOf(r)}, nil
	}
	op := cmpOp(slices.Index(opTexts[:], opTok.text))
	equality := op == opEq || op == opNe
	switch {
	case lt == typeNumber && rt == typeNumber:
		a := &intAtom{op: op, l: intTermOf(l), r: intTermOf(r)}
		if a.l.skill == "" && a.r.skill != "" { // the skill first, for explanations
			a.l, a.r, a.op = a.r, a.l, op.mirror()
		}
		return a, nil
	case lt == typeTaskList || rt == typeTaskList:
		return nil, &ExprError{opTok.col, "task.topics is a list: use task.topics contains \"topic\""}
	case !equality && lt != rt:
		return nil, mismatch()
	case !equality:
		return nil, &ExprError{opTok.col, fmt.Sprintf("%s compares numbers; %s is %s", opTok.text, l.name(), lt)}
	case lt == typeText && rt == typeText:
		return &textAtom{eq: op == opEq, l: textTermOf(l), r: textTermOf(r)}, nil
	case lt == typeAgentList && rt == typeText:
		return &setAtom{regions: l.kind == opdAgentRegions, val: textTermOf(r), neg: op == opNe}, nil
	case lt == typeText && rt == typeAgentList:
		return &setAtom{regions: r.kind == opdAgentRegions, val: textTermOf(l), neg: op == opNe}, nil
	case lt == typeBool && rt == typeBool:
		return newBoolAtom(opTok.text, l, r), nil
	}
	return nil, mismatch()
}

func newBoolAtom(op string, l, r operand) node {
	term := func(o operand) boolTerm { return boolTerm{anonymous: o.kind == opdTaskAnonymous, lit: o.b} }
	return &boolAtom{eq: op == "==", l: term(l), r: term(r)}
}

// constNode is true or false, what a node folds to once the task is known.
type constNode struct{ v bool }

var (
	constTrue  = &constNode{true}
	constFalse = &constNode{false}
)

func constOf(v bool) node {
	if v {
		return constTrue
	}
	return constFalse
}

func (c *constNode) negate() node                                 { return constOf(!c.v) }
func (c *constNode) spec(*Task) node                              { return c }
func (c *constNode) eval(*agentAttrs) bool                        { return c.v }
func (c *constNode) write(b *strings.Builder)                     { b.WriteString(strconv.FormatBool(c.v)) }
func (c *constNode) explain(_ *agentAttrs, out []string) []string { return out }
func (c *constNode) uses() (bool, bool)                           { return false, false }

type andNode struct{ xs []node }
type orNode struct{ xs []node }

func negateAll(xs []node) []node {
	out := make([]node, len(xs))
	for i, x := range xs {
		out[i] = x.negate()
	}
	return out
}

func usesAll(xs []node) (agent, task bool) {
	for _, x := range xs {
		a, t := x.uses()
		agent, task = agent || a, task || t
	}
	return agent, task
}

func writeJoined(b *strings.Builder, xs []node, word string) {
	b.WriteByte('(')
	for i, x := range xs {
		if i > 0 {
			b.WriteString(word)
		}
		x.write(b)
	}
	b.WriteByte(')')
}

func (n *andNode) negate() node             { return &orNode{negateAll(n.xs)} }
func (n *andNode) uses() (bool, bool)       { return usesAll(n.xs) }
func (n *andNode) write(b *strings.Builder) { writeJoined(b, n.xs, " and ") }
func (n *orNode) negate() node              { return &andNode{negateAll(n.xs)} }
func (n *orNode) uses() (bool, bool)        { return usesAll(n.xs) }
func (n *orNode) write(b *strings.Builder)  { writeJoined(b, n.xs, " or ") }
func (n *andNode) eval(a *agentAttrs) bool {
	for _, x := range n.xs {
		if !x.eval(a) {
			return false
		}
	}
	return true
}
func (n *orNode) eval(a *agentAttrs) bool {
	for _, x := range n.xs {
		if x.eval(a) {
			return true
		}
	}
	return false
}

// spec folds constants: false in an and (true in an or) decides it.
func (n *andNode) spec(t *Task) node {
	return specJoined(n.xs, t, false, func(xs []node) node { return &andNode{xs} })
}
func (n *orNode) spec(t *Task) node {
	return specJoined(n.xs, t, true, func(xs []node) node { return &orNode{xs} })
}

func specJoined(xs []node, t *Task, decisive bool, join func([]node) node) node {
	var kept []node
	for _, x := range xs {
		s := x.spec(t)
		if c, ok := s.(*constNode); ok {
			if c.v == decisive {
				return c
			}
			continue
		}
		kept = append(kept, s)
	}
	switch len(kept) {
	case 0:
		return constOf(!decisive)
	case 1:
		return kept[0]
	}
	return join(kept)
}

func (n *andNode) explain(a *agentAttrs, out []string) []string {
	for _, x := range n.xs {
		out = x.explain(a, out)
	}
	return out
}
func (n *orNode) explain(a *agentAttrs, out []string) []string {
	for _, x := range n.xs {
		if x.eval(a) {
			return x.explain(a, out)
		}
	}
	return out
}
