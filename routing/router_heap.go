package routing

// heapItem is an agent in a heap with their sort key copied in, so ordering reads
// the heap's own array and not the agents (fewer cache misses with many agents).
// The key is copied when the agent enters the heap; Router.change takes agents out
// before any change to what the key is made of.
type heapItem struct {
	load, capacity int32 // share of capacity in use: least busy; 0 of 1 otherwise
	t              int64 // idle since (longest idle, least busy ties), last assigned (round robin)
	idx            int32
}

func (x heapItem) less(y heapItem) bool {
	if a, b := int64(x.load)*int64(y.capacity), int64(y.load)*int64(x.capacity); a != b {
		return a < b
	}
	if x.t != y.t {
		return x.t < y.t
	}
	return x.idx < y.idx // the staff list order: results are deterministic
}

// strategyKey is an agent's key under a strategy (see strategyIndex).
func strategyKey(strategy int, a *agentState) heapItem {
	switch strategy {
	case 1: // least busy, then longest idle
		return heapItem{load: int32(a.load), capacity: int32(a.capacity), t: a.idleSince, idx: a.idx}
	case 2: // round robin: least recently assigned, never first
		return heapItem{capacity: 1, t: a.lastAssigned, idx: a.idx}
	}
	return heapItem{capacity: 1, t: a.idleSince, idx: a.idx} // longest idle
}

// agentHeap is a binary min-heap of available agents ordered by a strategy, with
// each agent's position kept so a state change moves them in O(log n).
type agentHeap struct {
	strategy int
	items    []heapItem
	pos      []int32 // by agent index; -1: not in the heap
}

func newAgentHeap(strategy, agents int) *agentHeap {
	h := &agentHeap{strategy: strategy, pos: make([]int32, agents)}
	for i := range h.pos {
		h.pos[i] = -1
	}
	return h
}

// grow makes room for agents added to the router since the heap was made.
func (h *agentHeap) grow(agents int) {
	for len(h.pos) < agents {
		h.pos = append(h.pos, -1)
	}
}

// build fills the heap at once: O(n).
func (h *agentHeap) build(agents []*agentState) {
	h.items = make([]heapItem, len(agents))
	for i, a := range agents {
		h.items[i] = strategyKey(h.strategy, a)
		h.pos[a.idx] = int32(i)
	}
	for i := len(agents)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *agentHeap) push(a *agentState) {
	if h.pos[a.idx] >= 0 {
		return
	}
	h.items = append(h.items, strategyKey(h.strategy, a))
	h.pos[a.idx] = int32(len(h.items) - 1)
	h.up(len(h.items) - 1)
}

func (h *agentHeap) remove(a *agentState) {
	i := int(h.pos[a.idx])
	if i < 0 {
		return
	}
	last := len(h.items) - 1
	h.swap(i, last)
	h.items = h.items[:last]
	h.pos[a.idx] = -1
	if i < last {
		h.down(i)
		h.up(i)
	}
}

func (h *agentHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i].idx] = int32(i)
	h.pos[h.items[j].idx] = int32(j)
}

func (h *agentHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.items[i].less(h.items[parent]) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

func (h *agentHeap) down(i int) {
	n := len(h.items)
	for {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < n && h.items[l].less(h.items[smallest]) {
			smallest = l
		}
		if r < n && h.items[r].less(h.items[smallest]) {
			smallest = r
		}
		if smallest == i {
			return
		}
		h.swap(i, smallest)
		i = smallest
	}
}

// best is the index of the first agent in order that is not excluded, -1 if none.
// With exclusions it searches the heap best-first from the root: it pops at most
// one entry per excluded agent before finding one, so a few declines cost a few
// steps, not a scan.
func (h *agentHeap) best(excluded map[int32]struct{}) int32 {
	if len(h.items) == 0 {
		return -1
	}
	if _, out := excluded[h.items[0].idx]; !out {
		return h.items[0].idx
	}
	var frontier []int // heap positions, kept as a small min-heap themselves
	lessAt := func(i, j int) bool { return h.items[frontier[i]].less(h.items[frontier[j]]) }
	push := func(p int) {
		if p >= len(h.items) {
			return
		}
		frontier = append(frontier, p)
		for i := len(frontier) - 1; i > 0 && lessAt(i, (i-1)/2); i = (i - 1) / 2 {
			frontier[i], frontier[(i-1)/2] = frontier[(i-1)/2], frontier[i]
		}
	}
	pop := func() int {
		top := frontier[0]
		last := len(frontier) - 1
		frontier[0] = frontier[last]
		frontier = frontier[:last]
		for i := 0; ; {
			s, l, r := i, 2*i+1, 2*i+2
			if l < last && lessAt(l, s) {
				s = l
			}
			if r < last && lessAt(r, s) {
				s = r
			}
			if s == i {
				break
			}
			frontier[i], frontier[s] = frontier[s], frontier[i]
			i = s
		}
		return top
	}
	push(1)
	push(2)
	for len(frontier) > 0 {
		p := pop()
		if _, out := excluded[h.items[p].idx]; !out {
			return h.items[p].idx
		}
		push(2*p + 1)
		push(2*p + 2)
	}
	return -1
}

// wrapUpHeap orders agents in wrap-up by when it ends, so expiry is processed
// lazily, on the next call that brings the time, without scanning.
type wrapUpEnd struct {
	until int64
	idx   int32
}

type wrapUpHeap []wrapUpEnd

func (h *wrapUpHeap) push(e wrapUpEnd) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0 && s[i].until < s[(i-1)/2].until; i = (i - 1) / 2 {
		s[i], s[(i-1)/2] = s[(i-1)/2], s[i]
	}
}

func (h *wrapUpHeap) pop() wrapUpEnd {
	s := *h
	top, last := s[0], len(s)-1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		m, l, r := i, 2*i+1, 2*i+2
		if l < last && s[l].until < s[m].until {
			m = l
		}
		if r < last && s[r].until < s[m].until {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
