package routing

import (
	"fmt"
	"sync"
	"time"
)

// Router holds one tenant's agents and their live state, and selects agents for
// tasks by the tenant's workflow. It is safe for concurrent use.
//
// Selection does not scan agents. Per pool of agents (all agents, or those an
// expression matches once the task is substituted in) and per strategy, a heap
// holds the agents available now: ready, under capacity, out of wrap-up, holding no
// unanswered offer. State changes move an agent in the heaps of the pools they
// belong to in O(log n); a new pool costs one pass over the agents, once, and pools
// are shared by every task that leaves the same expression (see Expr). Wrap-up ends
// are kept in a time-ordered heap and applied when a call brings a later time.
// Exclusions (agents who declined or let an offer lapse for this task) are skipped
// at selection, costing a step per excluded agent at the top of the order.
//
// The router does not persist anything: the caller writes statuses, loads and
// claims to the database and tells the router.
type Router struct {
	mu        sync.Mutex
	wf        *Workflow
	agents    []*agentState
	byID      map[string]*agentState
	pools     map[string]*pool
	all       *pool   // every agent: queue steps
	stepPools []*pool // per step: the pool of an expression that uses no task attribute
	// stepCache per step maps a task key (see Expr.taskKey) to its pool, so that
	// selecting does not specialise the expression again for every task.
	stepCache []map[string]stepMatch
	wrapUps   wrapUpHeap
	excluded  map[string]map[int32]struct{} // task ID → agents
	ready     int                           // agents with status Ready
	clock     int64                         // the latest time seen, Unix ns
	uses      uint64                        // counts pool uses, for evicting the least recent
}

// agentState is an agent as the router keeps them. Times are Unix nanoseconds;
// 0 is "never".
type agentState struct {
	idx          int32
	userID, name string
	attrs        *agentAttrs
	wrapUp       time.Duration
	status       Status
	load         int
	capacity     int
	wrapUpUntil  int64
	idleSince    int64
	lastAssigned int64
	offeredTask  string
	offered      bool
	available    bool
	removed      bool
}

// AgentState is a snapshot of an agent's live state.
type AgentState struct {
	UserID, Name   string
	Status         Status
	Load, Capacity int
	WrapUpUntil    time.Time // zero: not in wrap-up
	IdleSince      time.Time
	LastAssigned   time.Time // zero: never
	Offered        bool
	OfferedTask    string
	Available      bool // eligible for offers now, exclusions aside
}

// NewRouter makes a router for a tenant's workflow (nil: DefaultWorkflow) and staff;
// supervisors are left out. Everyone starts offline with no load.
func NewRouter(w *Workflow, staff []Staff) (*Router, error) {
	r := &Router{byID: map[string]*agentState{}, pools: map[string]*pool{}, excluded: map[string]map[int32]struct{}{}}
	for i := range staff {
		if staff[i].Role == RoleSupervisor {
			continue
		}
		if err := r.addAgent(&staff[i]); err != nil {
			return nil, err
		}
	}
	r.all = r.poolFor(constTrue)
	r.all.pinned = true
	if err := r.SetWorkflow(w); err != nil {
		return nil, err
	}
	return r, nil
}

// SetWorkflow replaces the workflow (a configuration reload).
func (r *Router) SetWorkflow(w *Workflow) error {
	if w == nil {
		w = DefaultWorkflow()
	}
	if err := w.check(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.stepPools {
		if p != nil && p != r.all {
			p.pinned = false
		}
	}
	r.wf = w
	r.stepPools = make([]*pool, len(w.Steps))
	r.stepCache = make([]map[string]stepMatch, len(w.Steps))
	for i, s := range w.Steps {
		if s.Expression != nil && s.Expression.staticSpec != nil {
			if _, isConst := s.Expression.staticSpec.(*constNode); !isConst {
				r.stepPools[i] = r.poolFor(s.Expression.staticSpec)
				r.stepPools[i].pinned = true
			}
		}
	}
	return nil
}

// Workflow is the workflow the router follows.
func (r *Router) Workflow() *Workflow {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wf
}

func (r *Router) addAgent(s *Staff) error {
	if _, dup := r.byID[s.UserID]; dup {
		return fmt.Errorf("routing: agent %s is listed twice", s.UserID)
	}
	a := &agentState{idx: int32(len(r.agents)), userID: s.UserID, status: Offline}
	a.setStaff(s)
	r.agents = append(r.agents, a)
	r.byID[s.UserID] = a
	for _, p := range r.pools {
		p.addMember(a, len(r.agents))
	}
	return nil
}

func (a *agentState) setStaff(s *Staff) {
	a.name = s.Name
	a.attrs = newAgentAttrs(s)
	a.capacity = s.MaxConversations()
	a.wrapUp = s.WrapUp.Std()
}

// AddAgent adds an agent (offline), or updates one already known: name, skills,
// languages, regions, capacity and wrap-up (a configuration reload).
func (r *Router) AddAgent(s Staff) error {
	if s.Role == RoleSupervisor {
		return fmt.Errorf("routing: %s is a supervisor, not an agent", s.UserID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, known := r.byID[s.UserID]
	if !known {
		return r.addAgent(&s)
	}
	r.change(a, func() {
		a.setStaff(&s)
		for _, p := range r.pools {
			p.setMember(a, p.match.eval(a.attrs))
		}
	})
	return nil
}

// RemoveAgent forgets an agent (removed from the staff list).
func (r *Router) RemoveAgent(userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.agent(userID)
	if err != nil {
		return err
	}
	r.change(a, func() {
		if a.status == Ready {
			r.ready--
		}
		a.removed, a.status = true, Offline
	})
	delete(r.byID, userID)
	return nil
}

func (r *Router) agent(userID string) (*agentState, error) {
	a, ok := r.byID[userID]
	if !ok {
		return nil, fmt.Errorf("routing: %s is not an agent of this tenant", userID)
	}
	return a, nil
}

// Agent is a snapshot of an agent's state.
func (r *Router) Agent(userID string) (AgentState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.byID[userID]
	if !ok {
		return AgentState{}, false
	}
	return AgentState{
		UserID: a.userID, Name: a.name, Status: a.status, Load: a.load, Capacity: a.capacity,
		WrapUpUntil: timeOf(a.wrapUpUntil), IdleSince: timeOf(a.idleSince), LastAssigned: timeOf(a.lastAssigned),
		Offered: a.offered, OfferedTask: a.offeredTask, Available: a.available,
	}, true
}

// ReadyAgents counts agents whose status is Ready (busy with conversations or not).
func (r *Router) ReadyAgents() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
}

// nanos converts a time, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// advance brings the clock to now and ends the wrap-ups due. Time does not go back:
// an earlier now than already seen changes nothing.
func (r *Router) advance(now time.Time) {
	if ns := nanos(now); ns > r.clock {
		r.clock = ns
	}
	for len(r.wrapUps) > 0 && r.wrapUps[0].until <= r.clock {
		e := r.wrapUps.pop()
		a := r.agents[e.idx]
		if a.wrapUpUntil != e.until { // a later wrap-up replaced this one
			continue
		}
		r.change(a, func() { a.wrapUpUntil, a.idleSince = 0, e.until })
	}
}

func (r *Router) isAvailable(a *agentState) bool {
	return !a.removed && a.status == Ready && a.load < a.capacity && !a.offered && a.wrapUpUntil <= r.clock
}

// change applies a state change and keeps the pools' heaps right: out of them
// before, back in after if still available.
func (r *Router) change(a *agentState, mutate func()) {
	if a.available {
		for _, p := range r.pools {
			p.removeAvailable(a)
		}
	}
	mutate()
	a.available = r.isAvailable(a)
	if a.available {
		for _, p := range r.pools {
			p.addAvailable(a)
		}
	}
}
