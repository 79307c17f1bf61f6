package outbound

import (
	"errors"
	"fmt"
	"strings"
)

// State is where an outbound request stands.
type State string

const (
	// StateRefused: the decision refused it (reasons stored with the decision).
	StateRefused State = "refused"
	// StateDeferred: allowed later; decided again when its time comes.
	StateDeferred State = "deferred"
	// StateRouting: allowed, waiting for an agent to accept it.
	StateRouting State = "routing"
	// StateInvited: the customer was invited to a new DM and has not joined yet.
	StateInvited State = "invited"
	// StateJoined: the customer is in the room the business wrote in.
	StateJoined State = "joined"
	// StateDeclined: the customer rejected the invite or left.
	StateDeclined State = "declined"
	// StateBlocked: the customer's homeserver refused (M_FORBIDDEN, M_INVITE_BLOCKED).
	StateBlocked State = "blocked"
	// StateExpired: not_after passed before an agent took it or the customer joined.
	StateExpired State = "expired"
	// StateFailed: the customer's homeserver could not be reached, or another error.
	StateFailed State = "failed"
	// StateDone: the conversation it started has ended.
	StateDone State = "done"
)

// States lists every state, in the order of a request's life.
var States = []State{StateRefused, StateDeferred, StateRouting, StateInvited, StateJoined,
	StateDeclined, StateBlocked, StateExpired, StateFailed, StateDone}

// transitions are the legal changes. A state absent from the keys is terminal. There
// is no way back to routing or invited from a failure: a refusal by the customer or
// their server is never argued with, and retries are for people to decide.
var transitions = map[State][]State{
	"": {StateRefused, StateDeferred, StateRouting},
	// A deferred request is decided again when its time comes.
	StateDeferred: {StateDeferred, StateRouting, StateRefused, StateExpired},
	// Routing ends when an agent accepts and the business writes: in the customer's
	// existing DM (joined at once) or a new one (invited). Consent withdrawn while
	// routing refuses it; an invite the server turns down blocks or fails it.
	StateRouting: {StateInvited, StateJoined, StateRefused, StateBlocked, StateFailed, StateExpired},
	StateInvited: {StateJoined, StateDeclined, StateBlocked, StateFailed, StateExpired},
	StateJoined:  {StateDone, StateDeclined},
}

// ErrIllegalTransition is returned for a change the state machine does not allow.
var ErrIllegalTransition = errors.New("illegal outbound state change")

// ParseState reads a state name.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown outbound state %q", s)
}

// Terminal tells whether nothing follows the state.
func (s State) Terminal() bool {
	_, ok := transitions[s]
	return !ok && s != ""
}

// Next lists the states that may follow s.
func (s State) Next() []State { return transitions[s] }

// Transition checks a change of state; "" as from is a new request.
func Transition(from, to State) error {
	for _, next := range transitions[from] {
		if next == to {
			return nil
		}
	}
	if from.Terminal() {
		return fmt.Errorf("%w: %s is final, cannot become %s", ErrIllegalTransition, from, to)
	}
	return fmt.Errorf("%w: %s cannot become %s", ErrIllegalTransition, orNew(from), to)
}

func orNew(s State) string {
	if s == "" {
		return "a new request"
	}
	return string(s)
}

// Initial is the state a decision puts a new request in.
func Initial(v Verdict) State {
	switch v {
	case Allowed:
		return StateRouting
	case Deferred:
		return StateDeferred
	}
	return StateRefused
}

// InviteFailure is how a refused invite or send ends the request, from the Matrix
// error's code ("M_FORBIDDEN", "M_INVITE_BLOCKED", …, "" when there was no answer)
// and HTTP status (0 when the server could not be reached). The customer's server
// refusing blocks it; anything else fails it. Neither is retried.
func InviteFailure(errcode string, status int) State {
	switch strings.ToUpper(errcode) {
	case "M_FORBIDDEN", "M_INVITE_BLOCKED", "M_USER_DEACTIVATED":
		return StateBlocked
	}
	if status == 403 {
		return StateBlocked
	}
	return StateFailed
}

// unreachableMarks are what a homeserver's error says when the customer's server did
// not answer over federation.
var unreachableMarks = []string{"connection refused", "connection reset", "no such host", "i/o timeout",
	"deadline exceeded", "dial tcp", "network is unreachable", "no route to host", "server misbehaving"}

// InviteFailureMessage is InviteFailure that also reads the error's message: some
// homeservers (Dendrite) answer M_FORBIDDEN when the customer's server could not be
// reached at all, which is a failure, not a refusal.
func InviteFailureMessage(errcode string, status int, message string) State {
	lower := strings.ToLower(message)
	for _, mark := range unreachableMarks {
		if strings.Contains(lower, mark) {
			return StateFailed
		}
	}
	return InviteFailure(errcode, status)
}
