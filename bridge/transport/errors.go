package transport

import (
	"errors"
	"fmt"
)

var (
	// ErrPermanent marks a failure that retrying cannot fix: the row is given up at
	// once, its reason kept.
	ErrPermanent = errors.New("permanent")
	// ErrNothingToSend means an outbox row has nothing left to do (it refers to an
	// event that never reached its room): the row is finished quietly.
	ErrNothingToSend = errors.New("nothing to send")
	// ErrLeaseLost means another replica has taken the room: this one stops working on
	// it and leaves the row as it is for the new holder.
	ErrLeaseLost = errors.New("the room's lease is held by another replica")
	// ErrTimedOut marks a handler or send that ran out of its deadline: retried with
	// backoff like other failures, and given up when it keeps timing out.
	ErrTimedOut = errors.New("ran out of time")
	// ErrPanicked marks a handler or sender that panicked; it is permanent, since the
	// same row would panic again.
	ErrPanicked = fmt.Errorf("%w: panicked", ErrPermanent)
)

// Permanent marks err as one that retrying cannot fix.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }
