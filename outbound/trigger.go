package outbound

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contactcenter/contactcenter/routing"
)

// Consent categories a rule may read (the consent package's names).
const (
	CategoryContact  = "contact"
	CategoryIdentity = "identity"
	CategoryAccount  = "account"
	CategoryLocation = "location"
	CategoryBrowsing = "browsing"
)

// RuleConfig is a context trigger as a tenant writes it:
//
//   - name: mortgage-interest
//     when: 'mortgage >= 3'
//     within: 24h
//     reason: "You looked at our mortgages: may we help?"
//     agent: "@carol:bank.example"
//
// when is a routing expression read over the customer instead of an agent: a bare
// name is how many pages of that topic the customer viewed within `within`;
// task.tier, task.region, task.language, task.anonymous and task.topics are the
// customer's attributes, and language and region their language and region.
type RuleConfig struct {
	Name string `yaml:"name" json:"name"`
	When string `yaml:"when" json:"when"`
	// Within is how far back page views count (0: DefaultWithin).
	Within routing.Duration `yaml:"within" json:"within,omitempty"`
	// Reason is shown to the agent and, if they accept, to the customer.
	Reason string `yaml:"reason" json:"reason"`
	// Agent is the user ID of the agent proposed to.
	Agent string `yaml:"agent" json:"agent"`
	// Cooldown keeps the rule from proposing the same customer again this soon (0:
	// DefaultCooldown).
	Cooldown routing.Duration `yaml:"cooldown" json:"cooldown,omitempty"`
}

// Defaults of a rule.
const (
	DefaultWithin   = 24 * time.Hour
	DefaultCooldown = 7 * 24 * time.Hour
)

// Rule is a compiled trigger.
type Rule struct {
	RuleConfig
	expr       *routing.Expr
	categories []string
	within     time.Duration
	cooldown   time.Duration
}

// CompileRule checks a trigger and finds the consent categories it reads.
func CompileRule(c RuleConfig) (*Rule, error) {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if strings.TrimSpace(c.Reason) == "" {
		errs = append(errs, errors.New("reason is required: the agent and the customer read it"))
	}
	if !strings.HasPrefix(c.Agent, "@") || !strings.Contains(c.Agent, ":") {
		errs = append(errs, fmt.Errorf("agent %q is not a Matrix user ID", c.Agent))
	}
	r := &Rule{RuleConfig: c, within: c.Within.Std(), cooldown: c.Cooldown.Std()}
	if r.within <= 0 {
		r.within = DefaultWithin
	}
	if r.cooldown <= 0 {
		r.cooldown = DefaultCooldown
	}
	expr, err := routing.ParseExpr(c.When)
	if err != nil {
		errs = append(errs, fmt.Errorf("when: %w", err))
	} else {
		r.expr = expr
		r.categories = categoriesOf(c.When)
		if len(r.categories) == 1 { // contact alone: the rule reads no context
			errs = append(errs, errors.New("when: reads nothing of the customer; name a topic count or a task attribute"))
		}
	}
	if err = errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("trigger %q: %w", c.Name, err)
	}
	return r, nil
}

// Categories are the consent categories a customer must have granted for good
// (remembered: always) before the rule is evaluated: contact, and every category
// the expression reads.
func (r *Rule) Categories() []string { return slices.Clone(r.categories) }

// TopicView is a page the customer viewed, by its topic.
type TopicView struct {
	Topic string
	At    time.Time
}

// Facts are what is known of a customer when context arrives. Whoever fills them
// reads only through the consent gate; Evaluate also ignores any field whose
// category is not in Standing.
type Facts struct {
	Now time.Time
	// Standing holds the categories the customer remembered as "always".
	Standing map[string]bool
	// Account: Tier. Location: Region, Language. Identity: Anonymous is false only
	// when identity is granted and the customer is linked to an account.
	Tier, Region, Language string
	Anonymous              bool
	// Browsing: the topics of the pages they viewed.
	Views []TopicView
	// LastProposed is when this rule last proposed this customer (zero: never).
	LastProposed time.Time
}

// Outcome is a rule's verdict on a customer.
type Outcome struct {
	Fire bool
	// Missing lists the categories without a standing grant (nothing was evaluated).
	Missing []string
	// CoolingDown: the rule proposed this customer within its cooldown.
	CoolingDown bool
}

// Evaluate tells whether the rule proposes contacting the customer now.
func (r *Rule) Evaluate(f Facts) Outcome {
	var out Outcome
	for _, c := range r.categories {
		if !f.Standing[c] {
			out.Missing = append(out.Missing, c)
		}
	}
	if len(out.Missing) > 0 {
		return out
	}
	if !f.LastProposed.IsZero() && f.Now.Sub(f.LastProposed) < r.cooldown {
		out.CoolingDown = true
		return out
	}
	task, subject := r.view(f)
	out.Fire = r.expr.Match(subject, task)
	return out
}

// view is the customer as the expression reads them, with only granted categories:
// the task carries their attributes, and the "agent" their topic counts as skills
// and their language and region.
func (r *Rule) view(f Facts) (*routing.Task, *routing.Staff) {
	task := &routing.Task{Anonymous: true}
	subject := &routing.Staff{}
	if f.Standing[CategoryAccount] {
		task.Tier = f.Tier
	}
	if f.Standing[CategoryIdentity] {
		task.Anonymous = f.Anonymous
	}
	if f.Standing[CategoryLocation] {
		task.Region, task.Language = f.Region, f.Language
		if f.Region != "" {
			subject.Regions = []string{f.Region}
		}
		if f.Language != "" {
			subject.Languages = []string{f.Language}
		}
	}
	if f.Standing[CategoryBrowsing] {
		since := f.Now.Add(-r.within)
		counts := map[string]int{}
		for _, v := range f.Views {
			if v.At.After(since) && !v.At.After(f.Now) {
				topic := strings.ToLower(v.Topic)
				if counts[topic] == 0 {
					task.Topics = append(task.Topics, topic)
				}
				counts[topic]++
			}
		}
		subject.Skills = counts
	}
	return task, subject
}

// Seen says in words what of the customer's browsing the rule counted ("viewed
// mortgage pages 3 times within 24h"), for the proposal to the agent; "" when the
// rule reads no topic or browsing is not granted for good.
func (r *Rule) Seen(f Facts) string {
	if !f.Standing[CategoryBrowsing] {
		return ""
	}
	_, subject := r.view(f)
	var parts []string
	seen := map[string]bool{}
	for _, name := range exprNames(r.When) {
		if strings.HasPrefix(name, "task.") || seen[name] || isKeyword(name) || name == "region" || name == "language" {
			continue
		}
		seen[name] = true
		if n := subject.Skills[name]; n > 0 {
			parts = append(parts, fmt.Sprintf("viewed %s pages %d %s", name, n, plural(n, "time", "times")))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " within " + formatWithin(r.within)
}

func isKeyword(name string) bool {
	switch name {
	case "and", "or", "not", "contains", "true", "false":
		return true
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// formatWithin writes a duration as people do: "24h", "7d", "90m".
func formatWithin(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d >= 48*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return d.Round(time.Minute).String()
	}
}
