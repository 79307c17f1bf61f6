package routing

// DefaultCapacity is how many conversations an agent serves at once unless their
// entry says otherwise.
const DefaultCapacity = 3

// Candidate is an agent as selection sees them.
type Candidate struct {
	UserID string
	Status Status
	// Load is how many open conversations they serve; Capacity the most they may.
	Load, Capacity int
	// Offered tells whether they have an offer they have not answered yet.
	Offered bool
	// Excluded agents passed on this conversation already (declined, transferred it).
	Excluded bool
}

// Eligible tells whether an agent may be offered a conversation now.
func (c Candidate) Eligible() bool {
	return c.Status == Ready && !c.Offered && !c.Excluded && c.Load < c.Capacity
}

// Selector chooses the agent a waiting conversation is offered to. The routing issue
// brings workflows, skills and strategies; the bridge only depends on this seam.
type Selector interface {
	Select(candidates []Candidate) (Candidate, bool)
}

// FirstReady offers to the eligible agent with the fewest conversations, in the order
// the tenant lists its staff when tied.
type FirstReady struct{}

func (FirstReady) Select(candidates []Candidate) (Candidate, bool) {
	var best Candidate
	found := false
	for _, c := range candidates {
		if c.Eligible() && (!found || c.Load < best.Load) {
			best, found = c, true
		}
	}
	return best, found
}
