package routing

// DefaultCapacity is how many conversations an agent serves at once unless their
// entry says otherwise.
const DefaultCapacity = 3
