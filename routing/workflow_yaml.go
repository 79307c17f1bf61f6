package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// UnmarshalYAML reads a workflow, with defaults for what it leaves out:
//
//	offer_timeout: 30s     # how long an offer waits for an answer
//	rona_after: 2          # unanswered offers in a row before the agent is set away
//	direct: false          # true: assign without offering
//	max_wait: 10m          # then the customer is told; 0 or absent: never
//	priority:
//	  - when: 'task.tier == "gold"'
//	    add: 10
//	steps:
//	  - account_manager: true
//	    timeout: 30s
//	  - expression: 'mortgage >= 3 and language == task.language'
//	    timeout: 1m
//	    strategy: least_busy     # longest_idle (default), least_busy, round_robin
//	  - queue: support
//
// Every error names its YAML line; all of them are reported at once.
func (w *Workflow) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%swant a mapping with steps", lineOf(n.Line))
	}
	parsed := Workflow{OfferTimeout: DefaultOfferTimeout, RONAAfter: DefaultRONAAfter, keyLines: map[string]int{}}
	var errs []error
	for _, kv := range mappingPairs(n, &errs) {
		key, v := kv.key.Value, kv.value
		parsed.keyLines[key] = kv.key.Line
		var err error
		switch key {
		case "steps":
			parsed.Steps, err = readList(v, "step", readStep)
		case "priority":
			parsed.PriorityRules, err = readList(v, "priority", readPriorityRule)
		case "offer_timeout":
			parsed.OfferTimeout, err = parseDuration(v)
		case "max_wait":
			parsed.MaxWait, err = parseDuration(v)
		case "rona_after":
			parsed.RONAAfter, err = readInt(v)
		case "direct":
			parsed.Direct, err = readBool(v)
		default:
			err = fmt.Errorf("unknown key %q; use steps, priority, offer_timeout, rona_after, direct or max_wait", key)
		}
		if err != nil {
			errs = append(errs, prefixLine(v.Line, key, err))
		}
	}
	if len(errs) == 0 {
		if err := parsed.check(); err != nil {
			return err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	*w = parsed
	return nil
}

// prefixLine names the line unless the error already does.
func prefixLine(line int, key string, err error) error {
	if strings.HasPrefix(err.Error(), "workflow") {
		return err
	}
	return fmt.Errorf("%s%s: %w", lineOf(line), key, err)
}

// resolveAlias follows aliases (*name) to what they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 10; i++ {
		n = n.Alias
	}
	return n
}

type pair struct{ key, value *yaml.Node }

// mappingPairs lists a mapping's keys and values, reporting keys given twice.
func mappingPairs(n *yaml.Node, errs *[]error) []pair {
	var out []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolveAlias(n.Content[i]), resolveAlias(n.Content[i+1])
		if seen[k.Value] {
			*errs = append(*errs, fmt.Errorf("%s%q is given twice", lineOf(k.Line), k.Value))
			continue
		}
		seen[k.Value] = true
		out = append(out, pair{k, v})
	}
	return out
}

// readList reads a sequence, each item with read, which names the item (what and
// its 1-based number) and the line in its errors.
func readList[T any](n *yaml.Node, what string, read func(n *yaml.Node, name string) (T, error)) ([]T, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("want a list")
	}
	var out []T
	var errs []error
	for i, item := range n.Content {
		v, err := read(resolveAlias(item), fmt.Sprintf("%s %d", what, i+1))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}

func readStep(n *yaml.Node, name string) (Step, error) {
	step := Step{Strategy: LongestIdle, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return step, fmt.Errorf("%s%s: want a mapping with account_manager, expression or queue", lineOf(n.Line), name)
	}
	var errs []error
	for _, kv := range mappingPairs(n, &errs) {
		key, v := kv.key.Value, kv.value
		var err error
		switch key {
		case "account_manager":
			step.AccountManager, err = readBool(v)
			if err == nil && !step.AccountManager {
				err = errors.New("false is no target; leave the key out")
			}
		case "expression":
			var src string
			if src, err = readString(v); err == nil {
				step.Expression, err = ParseExpr(src)
			}
		case "queue":
			step.Queue, err = readString(v)
			if err == nil && step.Queue == "" {
				err = errors.New("needs a name")
			}
		case "timeout":
			step.Timeout, err = parseDuration(v)
		case "strategy":
			var s string
			if s, err = readString(v); err == nil && !slices.Contains(strategies, Strategy(s)) {
				err = fmt.Errorf("unknown strategy %q; use longest_idle, least_busy or round_robin", s)
			}
			step.Strategy = Strategy(s)
		default:
			err = fmt.Errorf("unknown key %q; use account_manager, expression, queue, timeout or strategy", key)
		}
		if err != nil {
			if key != "expression" && key != "strategy" && !strings.HasPrefix(err.Error(), "unknown key") {
				err = fmt.Errorf("%s: %w", key, err)
			}
			errs = append(errs, fmt.Errorf("%s%s: %w", lineOf(v.Line), name, err))
		}
	}
	return step, errors.Join(errs...)
}

func readPriorityRule(n *yaml.Node, name string) (PriorityRule, error) {
	rule := PriorityRule{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return rule, fmt.Errorf("%s%s: want a mapping with when and add", lineOf(n.Line), name)
	}
	var errs []error
	hasAdd := false
	for _, kv := range mappingPairs(n, &errs) {
		key, v := kv.key.Value, kv.value
		var err error
		switch key {
		case "when":
			var src string
			if src, err = readString(v); err == nil {
				rule.When, err = ParseExpr(src)
			}
		case "add":
			rule.Add, err = readInt(v)
			hasAdd = true
		default:
			err = fmt.Errorf("unknown key %q; use when and add", key)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %w", lineOf(v.Line), name, err))
		}
	}
	if !hasAdd && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s%s: add is required", lineOf(n.Line), name))
	}
	return rule, errors.Join(errs...)
}

func readString(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("want text")
	}
	return n.Value, nil
}

func readInt(n *yaml.Node) (int, error) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		return 0, fmt.Errorf("want a whole number, not %q", n.Value)
	}
	return v, nil
}

func readBool(n *yaml.Node) (bool, error) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		return false, fmt.Errorf("want true or false, not %q", n.Value)
	}
	return v, nil
}

// MarshalYAML writes the workflow the way UnmarshalYAML reads it, so a config that
// holds one can be written out and read again.
func (w *Workflow) MarshalYAML() (any, error) {
	type step struct {
		AccountManager bool   `yaml:"account_manager,omitempty"`
		Expression     string `yaml:"expression,omitempty"`
		Queue          string `yaml:"queue,omitempty"`
		Timeout        string `yaml:"timeout,omitempty"`
		Strategy       string `yaml:"strategy,omitempty"`
	}
	type rule struct {
		When string `yaml:"when"`
		Add  int    `yaml:"add"`
	}
	out := struct {
		Steps        []step `yaml:"steps"`
		Priority     []rule `yaml:"priority,omitempty"`
		OfferTimeout string `yaml:"offer_timeout"`
		RONAAfter    int    `yaml:"rona_after"`
		Direct       bool   `yaml:"direct,omitempty"`
		MaxWait      string `yaml:"max_wait,omitempty"`
	}{OfferTimeout: w.OfferTimeout.String(), RONAAfter: w.RONAAfter, Direct: w.Direct}
	if w.MaxWait > 0 {
		out.MaxWait = w.MaxWait.String()
	}
	for _, s := range w.Steps {
		o := step{AccountManager: s.AccountManager, Queue: s.Queue, Strategy: string(s.Strategy)}
		if s.Expression != nil {
			o.Expression = s.Expression.String()
		}
		if s.Timeout > 0 {
			o.Timeout = s.Timeout.String()
		}
		out.Steps = append(out.Steps, o)
	}
	for _, r := range w.PriorityRules {
		out.Priority = append(out.Priority, rule{When: r.When.String(), Add: r.Add})
	}
	return out, nil
}
