package routing

import (
	"slices"
	"strconv"
	"strings"
)

// intTerm is a skill's proficiency or a number.
type intTerm struct {
	skill string // "" for a number
	lit   int
}

func intTermOf(o operand) intTerm {
	if o.kind == opdSkill {
		return intTerm{skill: o.text}
	}
	return intTerm{lit: o.num}
}

func (t intTerm) value(a *agentAttrs) int {
	if t.skill == "" {
		return t.lit
	}
	return a.skills[t.skill]
}

func (t intTerm) String() string {
	if t.skill == "" {
		return strconv.Itoa(t.lit)
	}
	return t.skill
}

// intAtom compares numbers: skills and literals. It never involves the task.
type intAtom struct {
	op   cmpOp
	l, r intTerm
}

func (n *intAtom) negate() node { return &intAtom{op: n.op.negate(), l: n.l, r: n.r} }
func (n *intAtom) uses() (bool, bool) {
	return n.l.skill != "" || n.r.skill != "", false
}
func (n *intAtom) spec(*Task) node {
	if n.l.skill == "" && n.r.skill == "" {
		return constOf(n.op.holds(n.l.lit, n.r.lit))
	}
	return n
}
func (n *intAtom) eval(a *agentAttrs) bool { return n.op.holds(n.l.value(a), n.r.value(a)) }
func (n *intAtom) write(b *strings.Builder) {
	b.WriteString(n.l.String() + " " + opTexts[n.op] + " " + n.r.String())
}
func (n *intAtom) explain(a *agentAttrs, out []string) []string {
	side := func(t intTerm) string {
		if t.skill == "" {
			return strconv.Itoa(t.lit)
		}
		return t.skill + " " + strconv.Itoa(t.value(a))
	}
	return append(out, side(n.l)+" "+opSymbols[n.op]+" "+side(n.r))
}

// textTerm is a text literal or a text attribute of the task.
type textTerm struct {
	field operandKind // 0 for a literal
	lit   string
}

func textTermOf(o operand) textTerm {
	if o.kind == opdText {
		return textTerm{lit: o.text}
	}
	return textTerm{field: o.kind}
}

// value is the text, lowercased, and whether it is known (a task field is unknown
// when empty).
func (t textTerm) value(task *Task) (string, bool) {
	var v string
	switch t.field {
	case 0:
		return t.lit, true
	case opdTaskTier:
		v = task.Tier
	case opdTaskRegion:
		v = task.Region
	case opdTaskLanguage:
		v = task.Language
	}
	return strings.ToLower(v), v != ""
}

func (t textTerm) String() string {
	if t.field == 0 {
		return strconv.Quote(t.lit)
	}
	return operand{kind: t.field}.name()
}

// textAtom compares two texts of the task or literals.
type textAtom struct {
	eq   bool
	l, r textTerm
}

func (n *textAtom) negate() node       { return &textAtom{eq: !n.eq, l: n.l, r: n.r} }
func (n *textAtom) uses() (bool, bool) { return false, n.l.field != 0 || n.r.field != 0 }
func (n *textAtom) spec(t *Task) node {
	l, lok := n.l.value(t)
	r, rok := n.r.value(t)
	if !lok || !rok {
		return constFalse // unknown
	}
	return constOf((l == r) == n.eq)
}
func (n *textAtom) eval(*agentAttrs) bool { return false } // never left after spec
func (n *textAtom) write(b *strings.Builder) {
	op := "!="
	if n.eq {
		op = "=="
	}
	b.WriteString(n.l.String() + " " + op + " " + n.r.String())
}
func (n *textAtom) explain(_ *agentAttrs, out []string) []string { return out }

// setAtom asks whether a text is among the agent's languages or regions.
type setAtom struct {
	regions bool
	val     textTerm
	neg     bool
}

func (n *setAtom) list(a *agentAttrs) []string {
	if n.regions {
		return a.regions
	}
	return a.languages
}
func (n *setAtom) negate() node       { return &setAtom{regions: n.regions, val: n.val, neg: !n.neg} }
func (n *setAtom) uses() (bool, bool) { return true, n.val.field != 0 }
func (n *setAtom) spec(t *Task) node {
	if n.val.field == 0 {
		return n
	}
	v, ok := n.val.value(t)
	if !ok {
		return constFalse // unknown
	}
	return &setAtom{regions: n.regions, val: textTerm{lit: v}, neg: n.neg}
}
func (n *setAtom) eval(a *agentAttrs) bool { return slices.Contains(n.list(a), n.val.lit) != n.neg }
func (n *setAtom) name() string {
	if n.regions {
		return "region"
	}
	return "language"
}
func (n *setAtom) write(b *strings.Builder) {
	op := " == "
	if n.neg {
		op = " != "
	}
	b.WriteString(n.name() + op + n.val.String())
}
func (n *setAtom) explain(_ *agentAttrs, out []string) []string {
	if n.neg {
		return append(out, n.name()+" not "+n.val.lit)
	}
	return append(out, n.name()+" "+n.val.lit)
}

// topicsAtom asks whether the task's topics include a text.
type topicsAtom struct {
	val textTerm
	neg bool
}

func (n *topicsAtom) negate() node       { return &topicsAtom{val: n.val, neg: !n.neg} }
func (n *topicsAtom) uses() (bool, bool) { return false, true }
func (n *topicsAtom) spec(t *Task) node {
	v, ok := n.val.value(t)
	if !ok || len(t.Topics) == 0 {
		return constFalse // unknown
	}
	found := slices.ContainsFunc(t.Topics, func(topic string) bool { return strings.EqualFold(topic, v) })
	return constOf(found != n.neg)
}
func (n *topicsAtom) eval(*agentAttrs) bool { return false }
func (n *topicsAtom) write(b *strings.Builder) {
	if n.neg {
		b.WriteString("not ")
	}
	b.WriteString("task.topics contains " + n.val.String())
}
func (n *topicsAtom) explain(_ *agentAttrs, out []string) []string { return out }

// boolTerm is task.anonymous or a literal.
type boolTerm struct {
	anonymous bool
	lit       bool
}

func (t boolTerm) value(task *Task) bool {
	if t.anonymous {
		return task.Anonymous
	}
	return t.lit
}

func (t boolTerm) String() string {
	if t.anonymous {
		return "task.anonymous"
	}
	return strconv.FormatBool(t.lit)
}

// boolAtom compares task.anonymous and literals. Anonymity is always known.
type boolAtom struct {
	eq   bool
	l, r boolTerm
}

func (n *boolAtom) negate() node       { return &boolAtom{eq: !n.eq, l: n.l, r: n.r} }
func (n *boolAtom) uses() (bool, bool) { return false, n.l.anonymous || n.r.anonymous }
func (n *boolAtom) spec(t *Task) node  { return constOf((n.l.value(t) == n.r.value(t)) == n.eq) }
func (n *boolAtom) eval(*agentAttrs) bool {
	return (n.l.lit == n.r.lit) == n.eq // only literals are left after spec
}
func (n *boolAtom) write(b *strings.Builder) {
	op := " != "
	if n.eq {
		op = " == "
	}
	b.WriteString(n.l.String() + op + n.r.String())
}
func (n *boolAtom) explain(_ *agentAttrs, out []string) []string { return out }
