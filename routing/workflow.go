package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Strategy breaks ties among the eligible agents of a step.
type Strategy string

const (
	// LongestIdle offers to the agent idle the longest: whose last routing event
	// (becoming ready, being assigned, finishing a conversation) is oldest.
	LongestIdle Strategy = "longest_idle"
	// LeastBusy offers to the agent with the smallest share of their capacity in
	// use, then the longest idle.
	LeastBusy Strategy = "least_busy"
	// RoundRobin offers to the agent assigned least recently (never first).
	RoundRobin Strategy = "round_robin"
)

var strategies = []Strategy{LongestIdle, LeastBusy, RoundRobin}

// Step is one target of a workflow, tried for Timeout before the next.
type Step struct {
	// Exactly one target: the task's account manager, the agents an expression
	// matches, or a queue (any agent; the name is a label in explanations).
	AccountManager bool
	Expression     *Expr
	Queue          string
	// Timeout is how long the step is tried; 0: forever (only the last step).
	Timeout  time.Duration
	Strategy Strategy
	// Line is where the step is in the YAML, for messages (0 if not from YAML).
	Line int
}

// Target describes the step's target in words.
func (s *Step) Target() string {
	switch {
	case s.AccountManager:
		return "account manager"
	case s.Expression != nil:
		return s.Expression.String()
	}
	return "queue " + s.Queue
}

// PriorityRule adds to a task's priority when its condition, over the task only,
// holds.
type PriorityRule struct {
	When *Expr
	Add  int
	Line int
}

// Workflow is how a tenant routes tasks: steps tried in order, each for its timeout.
type Workflow struct {
	Steps         []Step
	PriorityRules []PriorityRule
	// OfferTimeout is how long an offer waits for an answer.
	OfferTimeout time.Duration
	// RONAAfter is how many offers in a row an agent may leave unanswered before
	// they are set away ("redirect on no answer").
	RONAAfter int
	// Direct assigns tasks without offering them first.
	Direct bool
	// MaxWait is how long a task waits before the customer is told no agent is
	// available; 0: never.
	MaxWait time.Duration

	// keyLines are where top-level keys were in the YAML, for messages.
	keyLines map[string]int
}

// Defaults applied when a workflow leaves them out.
const (
	DefaultOfferTimeout = 30 * time.Second
	DefaultRONAAfter    = 2
)

// DefaultWorkflow is used by tenants that configure none: one queue step, longest
// idle agent first, offers with the default timeout.
func DefaultWorkflow() *Workflow {
	return &Workflow{
		Steps:        []Step{{Queue: "default", Strategy: LongestIdle}},
		OfferTimeout: DefaultOfferTimeout,
		RONAAfter:    DefaultRONAAfter,
	}
}

// SetsAway is the RONA rule ("redirect on no answer"): an agent who let this many
// offers in a row lapse is set away.
func (w *Workflow) SetsAway(missedInARow int) bool {
	return w.RONAAfter > 0 && missedInARow >= w.RONAAfter
}

// TaskPriority is the task's priority with the rules applied.
func (w *Workflow) TaskPriority(t *Task) int {
	p := t.Priority
	for _, r := range w.PriorityRules {
		if r.When.specialise(t).eval(&agentAttrs{}) {
			p += r.Add
		}
	}
	return p
}

// StepFor says which step applies to a task that has waited age, and how long until
// the next one (0: this step lasts). Account manager steps are skipped for tasks
// without an account manager and for anonymous tasks, so they are not waited out.
func (w *Workflow) StepFor(t *Task, age time.Duration) (step int, left time.Duration) {
	return w.stepFor(age, func(s *Step) bool { return !s.AccountManager || t.AccountManager != "" && !t.Anonymous })
}

func (w *Workflow) stepFor(age time.Duration, applies func(*Step) bool) (int, time.Duration) {
	last := -1
	for i := range w.Steps {
		s := &w.Steps[i]
		if !applies(s) {
			continue
		}
		last = i
		if s.Timeout == 0 {
			return i, 0
		}
		if age < s.Timeout {
			return i, s.Timeout - age
		}
		age -= s.Timeout
	}
	return last, 0 // the last step goes on being tried
}

// check reports structural problems; lines name them when the workflow came from YAML.
func (w *Workflow) check() error {
	var errs []error
	if len(w.Steps) == 0 {
		errs = append(errs, errors.New(lineOf(w.keyLines["steps"])+"at least one step is required"))
	}
	onlyAccountManager := true
	for i := range w.Steps {
		s := &w.Steps[i]
		if err := s.check(i, len(w.Steps)); err != nil {
			errs = append(errs, fmt.Errorf("%sstep %d: %w", lineOf(s.Line), i+1, err))
		}
		onlyAccountManager = onlyAccountManager && s.AccountManager
	}
	if len(w.Steps) > 0 && onlyAccountManager {
		errs = append(errs, errors.New(lineOf(w.keyLines["steps"])+"tasks without an account manager need an expression or queue step"))
	}
	for i, r := range w.PriorityRules {
		switch {
		case r.When == nil:
			errs = append(errs, fmt.Errorf("%spriority %d: when is required", lineOf(r.Line), i+1))
		case r.When.UsesAgent():
			errs = append(errs, fmt.Errorf("%spriority %d: when may use only task attributes (task.tier, ...), not the agent's", lineOf(r.Line), i+1))
		}
	}
	if w.OfferTimeout <= 0 && !w.Direct {
		errs = append(errs, errors.New(lineOf(w.keyLines["offer_timeout"])+"offer_timeout must be more than 0 unless direct is true"))
	}
	if w.RONAAfter < 1 {
		errs = append(errs, fmt.Errorf("%srona_after %d must be at least 1", lineOf(w.keyLines["rona_after"]), w.RONAAfter))
	}
	if w.MaxWait < 0 {
		errs = append(errs, errors.New(lineOf(w.keyLines["max_wait"])+"max_wait must not be negative"))
	}
	return errors.Join(errs...)
}

func (s *Step) check(i, n int) error {
	targets := 0
	for _, set := range []bool{s.AccountManager, s.Expression != nil, s.Queue != ""} {
		if set {
			targets++
		}
	}
	switch {
	case targets != 1:
		return errors.New("needs exactly one of account_manager: true, expression or queue")
	case s.Strategy != "" && !slices.Contains(strategies, s.Strategy):
		return fmt.Errorf("unknown strategy %q; use longest_idle, least_busy or round_robin", s.Strategy)
	case s.Timeout < 0:
		return errors.New("timeout must not be negative")
	case s.Timeout == 0 && i < n-1:
		return errors.New("timeout 0 (forever) leaves the steps after it unused; give it a timeout or make it the last step")
	}
	return nil
}

// lineOf starts a message about the workflow: "workflow line 14: ", or "workflow: "
// when it did not come from YAML.
func lineOf(line int) string {
	if line == 0 {
		return "workflow: "
	}
	return fmt.Sprintf("workflow line %d: ", line)
}

// Validate checks the workflow, and its expressions against the tenant's staff:
// a language or region no agent has is most likely a typo that would silently skip
// the step. (A skill nobody has is allowed: its proficiency is 0 and "cards < 2"
// means something.)
func (w *Workflow) Validate(staff []Staff) error {
	errs := []error{w.check()}
	have := map[string]bool{}
	for _, s := range staff {
		for _, l := range s.Languages {
			have["language "+strings.ToLower(l)] = true
		}
		for _, r := range s.Regions {
			have["region "+strings.ToLower(r)] = true
		}
	}
	for i := range w.Steps {
		s := &w.Steps[i]
		if s.Expression == nil {
			continue
		}
		walkNodes(s.Expression.root, func(n node) {
			if a, ok := n.(*setAtom); ok && a.val.field == 0 && !have[a.name()+" "+a.val.lit] {
				errs = append(errs, fmt.Errorf("%sstep %d: no agent has %s %q", lineOf(s.Line), i+1, a.name(), a.val.lit))
			}
		})
	}
	return errors.Join(errs...)
}

func walkNodes(n node, f func(node)) {
	f(n)
	switch n := n.(type) {
	case *andNode:
		for _, x := range n.xs {
			walkNodes(x, f)
		}
	case *orNode:
		for _, x := range n.xs {
			walkNodes(x, f)
		}
	}
}
