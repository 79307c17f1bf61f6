package routing

import (
	"strconv"
	"strings"
	"time"
)

// Decision is the agent selected for a task, and why.
type Decision struct {
	UserID string
	Name   string
	// Step is the workflow step (0-based) that selected them.
	Step int
	// Explanation is written in the side room, e.g. "Routed to Dave: mortgage 4 ≥ 3,
	// least busy (1 of 3) — step 2 of 3".
	Explanation string
}

// StepFor says which workflow step applies to a task that has waited age, and how
// long until the next (0: this step lasts). Account manager steps are skipped when
// the task has no account manager, is anonymous, or its account manager is not an
// agent of this tenant; expression steps when the task alone makes them false.
func (r *Router) StepFor(t *Task, age time.Duration) (step int, left time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wf.stepFor(age, func(s *Step) bool {
		switch {
		case s.AccountManager:
			_, known := r.byID[t.AccountManager]
			return known && !t.Anonymous
		case s.Expression != nil:
			// An expression that is false for this task whoever the agent (it needs
			// an attribute the customer did not share, say) is not waited out.
			c, isConst := s.Expression.specialise(t).(*constNode)
			return !isConst || c.v
		}
		return true
	})
}

// Select picks an agent for the task by one workflow step: eligible agents (ready,
// under capacity, out of wrap-up, holding no unanswered offer, not excluded from
// this task) that the step targets, the best by its strategy. It records nothing:
// the caller then claims the task and records it (SyncOffer or Assigned).
func (r *Router) Select(t *Task, step int, now time.Time) (Decision, bool) {
	return r.SelectExcept(t, step, now, nil)
}

// SelectExcept is Select that also passes over the agents listed in except: those the
// database says passed on this task, and those a routing pass has claimed but not yet
// committed (the router learns of a claim only once it commits). An agent not of
// this tenant is ignored.
func (r *Router) SelectExcept(t *Task, step int, now time.Time, except []string) (Decision, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(now)
	if step < 0 || step >= len(r.wf.Steps) {
		return Decision{}, false
	}
	s := &r.wf.Steps[step]
	excluded := r.excludedWith(t.ID, except)
	var a *agentState
	why := make([]string, 0, 4)
	if s.AccountManager {
		if t.Anonymous || t.AccountManager == "" {
			return Decision{}, false
		}
		am, known := r.byID[t.AccountManager]
		if !known || !am.available {
			return Decision{}, false
		}
		if _, out := excluded[am.idx]; out {
			return Decision{}, false
		}
		a, why = am, []string{"account manager", "ready", "idle " + humanDuration(r.clock-am.idleSince)}
	} else {
		p, match := r.stepPool(s, step, t)
		if p == nil {
			return Decision{}, false
		}
		idx := p.heap(s.Strategy, r.agents).best(excluded)
		if idx < 0 {
			return Decision{}, false
		}
		a = r.agents[idx]
		if s.Queue != "" {
			why = append(why, "queue "+s.Queue)
		} else {
			why = match.explain(a.attrs, why)
		}
		why = append(why, r.strategyWhy(s.Strategy, a))
	}
	return Decision{UserID: a.userID, Name: a.name, Step: step, Explanation: explanation(a.name, why, step, len(r.wf.Steps))}, true
}

// excludedWith is the task's exclusions plus the agents in except, without changing
// what the router keeps: a copy only when except adds someone.
func (r *Router) excludedWith(taskID string, except []string) map[int32]struct{} {
	excluded := r.excluded[taskID]
	if len(except) == 0 {
		return excluded
	}
	merged := make(map[int32]struct{}, len(excluded)+len(except))
	for idx := range excluded {
		merged[idx] = struct{}{}
	}
	for _, userID := range except {
		if a, ok := r.byID[userID]; ok {
			merged[a.idx] = struct{}{}
		}
	}
	return merged
}

// explanation writes "Routed to Dave: mortgage 4 ≥ 3, least busy (1 of 3) — step 2
// of 3" (without fmt: this is on every selection).
func explanation(name string, why []string, step, steps int) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString("Routed to ")
	b.WriteString(name)
	b.WriteString(": ")
	for i, w := range why {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w)
	}
	b.WriteString(" — step ")
	b.WriteString(strconv.Itoa(step + 1))
	b.WriteString(" of ")
	b.WriteString(strconv.Itoa(steps))
	return b.String()
}

// stepPool is the pool a queue or expression step selects from for the task, and
// the expression left once the task is substituted; nil when it matches nobody.
func (r *Router) stepPool(s *Step, step int, t *Task) (*pool, node) {
	if s.Queue != "" {
		return r.all, constTrue
	}
	if p := r.stepPools[step]; p != nil {
		return p, p.match
	}
	key := s.Expression.taskKey(t)
	if m, ok := r.stepCache[step][key]; ok {
		if m.pool != nil {
			r.uses++
			m.pool.lastUse = r.uses
		}
		return m.pool, m.match
	}
	m := stepMatch{match: s.Expression.specialise(t)}
	if c, ok := m.match.(*constNode); ok {
		if c.v {
			m.pool = r.all
		}
	} else {
		m.pool = r.poolFor(m.match)
	}
	if r.stepCache[step] == nil || len(r.stepCache[step]) >= maxStepCache {
		r.stepCache[step] = map[string]stepMatch{}
	}
	r.stepCache[step][key] = m
	return m.pool, m.match
}

// maxStepCache bounds a step's cache of task keys; when full it starts again.
const maxStepCache = 4096

type stepMatch struct {
	pool  *pool // nil: the expression matches nobody for these tasks
	match node
}

func (r *Router) strategyWhy(s Strategy, a *agentState) string {
	switch s {
	case LeastBusy:
		return "least busy (" + strconv.Itoa(a.load) + " of " + strconv.Itoa(a.capacity) + ")"
	case RoundRobin:
		if a.lastAssigned == 0 {
			return "next in turn (not assigned yet)"
		}
		return "next in turn (last assigned " + humanDuration(r.clock-a.lastAssigned) + " ago)"
	}
	return "longest idle (" + humanDuration(r.clock-a.idleSince) + ")"
}

// humanDuration writes a duration in nanoseconds for people: "40 s", "4 min",
// "2 h 5 min".
func humanDuration(ns int64) string {
	d := time.Duration(max(ns, 0))
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.Itoa(int(d/time.Hour)) + " h " + strconv.Itoa(int(d%time.Hour/time.Minute)) + " min"
}
