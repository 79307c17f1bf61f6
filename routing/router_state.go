package routing

import (
	"fmt"
	"time"
)

// SetStatus records an agent's status. Becoming ready starts their idle time.
func (r *Router) SetStatus(userID string, st Status, now time.Time) error {
	if _, err := ParseStatus(string(st)); err != nil {
		return err
	}
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	r.setStatus(a, st)
	return nil
}

func (r *Router) setStatus(a *agentState, st Status) {
	if a.status == st {
		return
	}
	r.change(a, func() {
		if a.status == Ready {
			r.ready--
		}
		if st == Ready {
			r.ready++
			a.idleSince = r.clock
		}
		a.status = st
	})
}

// SetLoad records how many conversations an agent serves, e.g. as counted in the
// database at start.
func (r *Router) SetLoad(userID string, load int, now time.Time) error {
	if load < 0 {
		return fmt.Errorf("routing: load %d must not be negative", load)
	}
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	r.change(a, func() { a.load = load })
	return nil
}

// Assigned records that an agent took a conversation (directly or by accepting).
func (r *Router) Assigned(userID string, now time.Time) error {
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	r.assigned(a, now)
	return nil
}

func (r *Router) assigned(a *agentState, now time.Time) {
	r.change(a, func() { a.assign(now) })
}

func (a *agentState) assign(now time.Time) {
	a.load++
	a.lastAssigned, a.idleSince = nanos(now), nanos(now)
}

// Released records that a conversation of the agent ended. With a wrap-up time they
// are offered nothing until it has passed; their idle time starts then.
func (r *Router) Released(userID string, now time.Time) error {
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	r.change(a, func() {
		if a.load > 0 {
			a.load--
		}
		if a.wrapUp <= 0 {
			a.idleSince = nanos(now)
			return
		}
		a.wrapUpUntil = nanos(now.Add(a.wrapUp))
		r.wrapUps.push(wrapUpEnd{until: a.wrapUpUntil, idx: a.idx})
	})
	return nil
}

// Exclude keeps an agent from being selected for a task (they passed on it, or it
// was transferred away from them).
func (r *Router) Exclude(taskID, userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.agent(userID)
	if err != nil {
		return err
	}
	r.exclude(taskID, a)
	return nil
}

func (r *Router) exclude(taskID string, a *agentState) {
	set := r.excluded[taskID]
	if set == nil {
		set = map[int32]struct{}{}
		r.excluded[taskID] = set
	}
	set[a.idx] = struct{}{}
}

// Forget drops what the router keeps about a task (exclusions) once it is assigned
// for good or ended.
func (r *Router) Forget(taskID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.excluded, taskID)
}

// SyncOffer records the agent's unanswered offer as the database holds it (taskID ""
// for none): an agent holding an offer is offered nothing else. Declines and lapses
// are Exclude; the count of lapses in a row lives with the claims (see SetsAway).
func (r *Router) SyncOffer(userID, taskID string, now time.Time) error {
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	if a.offeredTask != taskID || a.offered != (taskID != "") {
		r.change(a, func() { a.offered, a.offeredTask = taskID != "", taskID })
	}
	return nil
}

// lockAgent takes the router's lock, brings its clock to now and finds the agent; the
// caller defers unlock. On error the lock is already released.
func (r *Router) lockAgent(userID string, now time.Time) (a *agentState, unlock func(), err error) {
	r.mu.Lock()
	r.advance(now)
	if a, err = r.agent(userID); err != nil {
		r.mu.Unlock()
		return nil, nil, err
	}
	return a, r.mu.Unlock, nil
}
