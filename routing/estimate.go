package routing

import "time"

// The queue's order (priority, then age) is the database's: claims take waiting
// conversations in that order, so two replicas agree on it. What routing adds is the
// estimate a waiting customer is told.

// EstimateWait estimates how long the task at a position waits:
//
//	position × mean handle time ÷ ready agents
//
// i.e. the tasks ahead of it and itself are served by the ready agents in parallel,
// each taking the mean handle time (the tenant's measured or configured figure).
// It ignores capacity above one, agents coming back, and tasks ahead leaving, so it
// is a rough figure for the customer ("about 4 minutes"), rounded up to a whole
// minute. With no agent ready there is no estimate.
func EstimateWait(position, readyAgents int, meanHandle time.Duration) (time.Duration, bool) {
	if readyAgents <= 0 || position <= 0 || meanHandle <= 0 {
		return 0, false
	}
	d := time.Duration(position) * meanHandle / time.Duration(readyAgents)
	return (d + time.Minute - 1).Truncate(time.Minute), true
}
