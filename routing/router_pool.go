package routing

import "strings"

// maxPools bounds the pools a router keeps. Expressions that use task attributes
// make one pool per distinct result (e.g. per task language), so the number follows
// the variety of tasks; past the bound the least recently used pool is dropped and
// rebuilt (one pass over the agents) if needed again.
const maxPools = 64

// pool is a set of agents an expression over agent attributes matches, with a heap
// of its available members per strategy, built on first use.
type pool struct {
	key     string
	match   node
	member  []bool // by agent index
	heaps   [3]*agentHeap
	lastUse uint64
	pinned  bool // in use by a step or the queue steps: never evicted
}

func renderNode(n node) string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

// poolFor finds or makes the pool of agents match selects.
func (r *Router) poolFor(match node) *pool {
	return r.poolByKey(renderNode(match), match)
}

func (r *Router) poolByKey(key string, match node) *pool {
	r.uses++
	if p, ok := r.pools[key]; ok {
		p.lastUse = r.uses
		return p
	}
	if len(r.pools) >= maxPools {
		r.evictPool()
	}
	p := &pool{key: key, match: match, member: make([]bool, len(r.agents)), lastUse: r.uses}
	for _, a := range r.agents {
		p.member[a.idx] = !a.removed && match.eval(a.attrs)
	}
	r.pools[key] = p
	return p
}

func (r *Router) evictPool() {
	var oldest *pool
	for _, p := range r.pools {
		if !p.pinned && (oldest == nil || p.lastUse < oldest.lastUse) {
			oldest = p
		}
	}
	if oldest != nil {
		delete(r.pools, oldest.key)
		for _, cache := range r.stepCache {
			clear(cache) // it may point at the pool, which is no longer kept up to date
		}
	}
}

func strategyIndex(s Strategy) int {
	switch s {
	case LeastBusy:
		return 1
	case RoundRobin:
		return 2
	}
	return 0
}

// heap is the pool's heap for a strategy, built from the available members the
// first time it is asked for and kept up to date after.
func (p *pool) heap(s Strategy, agents []*agentState) *agentHeap {
	i := strategyIndex(s)
	if p.heaps[i] == nil {
		h := newAgentHeap(i, len(agents))
		var avail []*agentState
		for _, a := range agents {
			if a.available && p.member[a.idx] {
				avail = append(avail, a)
			}
		}
		h.build(avail)
		p.heaps[i] = h
	}
	return p.heaps[i]
}

// addMember takes in an agent new to the router (offline, so in no heap yet).
func (p *pool) addMember(a *agentState, agents int) {
	for len(p.member) < agents {
		p.member = append(p.member, false)
	}
	p.member[a.idx] = p.match.eval(a.attrs)
	for _, h := range p.heaps {
		if h != nil {
			h.grow(agents)
		}
	}
}

// setMember changes membership; the agent must be out of the heaps (see change).
func (p *pool) setMember(a *agentState, in bool) { p.member[a.idx] = in }

func (p *pool) removeAvailable(a *agentState) {
	if !p.member[a.idx] {
		return
	}
	for _, h := range p.heaps {
		if h != nil {
			h.remove(a)
		}
	}
}

func (p *pool) addAvailable(a *agentState) {
	if !p.member[a.idx] {
		return
	}
	for _, h := range p.heaps {
		if h != nil {
			h.push(a)
		}
	}
}
