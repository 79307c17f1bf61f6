package routing

import "time"

// EndWrapUp ends an agent's wrap-up now, before its time runs out: they gave the
// wrap-up code, so their after-contact work is done. Without a wrap-up under way it
// changes nothing.
func (r *Router) EndWrapUp(userID string, now time.Time) error {
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	if a.wrapUpUntil <= r.clock {
		return nil
	}
	// The heap's entry for the old end is skipped when it comes due: it no longer
	// matches the agent's wrapUpUntil.
	r.change(a, func() { a.wrapUpUntil, a.idleSince = 0, r.clock })
	return nil
}
