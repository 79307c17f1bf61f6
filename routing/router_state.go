package routing

import (
	"fmt"
	"time"
)

// SetStatus records an agent's status. Becoming ready starts their idle time and
// clears their count of unanswered offers.
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
			a.idleSince, a.unanswered = r.clock, 0
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

// OfferMade records an offer to an agent: until it is answered or times out they
// are offered nothing else.
func (r *Router) OfferMade(userID, taskID string, now time.Time) error {
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	if a.offered {
		return fmt.Errorf("routing: %s already holds an offer for %s", userID, a.offeredTask)
	}
	r.change(a, func() { a.offered, a.offeredTask = true, taskID })
	return nil
}

// OfferAnswered records an answer. Accepting assigns the task; declining excludes
// the agent from it. Either way the agent answered, so their count of unanswered
// offers starts again.
func (r *Router) OfferAnswered(userID, taskID string, accepted bool, now time.Time) error {
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return err
	}
	defer unlock()
	if err := a.holds(taskID); err != nil {
		return err
	}
	r.change(a, func() {
		a.offered, a.offeredTask, a.unanswered = false, "", 0
		if accepted {
			a.assign(now)
		}
	})
	if !accepted {
		r.exclude(taskID, a)
	}
	return nil
}

func (a *agentState) holds(taskID string) error {
	if !a.offered || a.offeredTask != taskID {
		return fmt.Errorf("routing: %s holds no offer for %s", a.userID, taskID)
	}
	return nil
}

// OfferTimedOut records an offer left unanswered for the offer timeout: the agent is
// excluded from that task, and after the workflow's rona_after such offers in a row
// the router sets them Away and returns true: the caller then records the status
// and tells the agent.
func (r *Router) OfferTimedOut(userID, taskID string, now time.Time) (setAway bool, err error) {
	a, unlock, err := r.lockAgent(userID, now)
	if err != nil {
		return false, err
	}
	defer unlock()
	if err := a.holds(taskID); err != nil {
		return false, err
	}
	r.change(a, func() {
		a.offered, a.offeredTask = false, ""
		a.unanswered++
	})
	r.exclude(taskID, a)
	if a.unanswered >= r.wf.RONAAfter {
		r.setStatus(a, Away)
		return true, nil
	}
	return false, nil
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

// SyncOffer makes the router's view of an agent's unanswered offer match the
// database's (taskID "" for none): after a restart, or when another replica made or
// settled the offer. Unlike the answers above it counts and excludes nothing.
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
