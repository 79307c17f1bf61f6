package outbound

import (
	"errors"
	"slices"
	"testing"
)

func TestTransitions(t *testing.T) {
	legal := map[[2]State]bool{}
	for _, p := range [][2]State{
		{"", StateRefused}, {"", StateDeferred}, {"", StateRouting},
		{StateDeferred, StateDeferred}, {StateDeferred, StateRouting}, {StateDeferred, StateRefused}, {StateDeferred, StateExpired},
		{StateRouting, StateInvited}, {StateRouting, StateJoined}, {StateRouting, StateRefused}, {StateRouting, StateBlocked},
		{StateRouting, StateFailed}, {StateRouting, StateExpired},
		{StateInvited, StateJoined}, {StateInvited, StateDeclined}, {StateInvited, StateBlocked}, {StateInvited, StateFailed},
		{StateInvited, StateExpired},
		{StateJoined, StateDone}, {StateJoined, StateDeclined},
	} {
		legal[p] = true
	}
	from := append([]State{""}, States...)
	for _, a := range from {
		for _, b := range States {
			err := Transition(a, b)
			if legal[[2]State{a, b}] != (err == nil) {
				t.Errorf("%q → %q: %v", a, b, err)
			}
			if err != nil && !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("%q → %q: error %v is not ErrIllegalTransition", a, b, err)
			}
		}
	}
}

func TestTerminalStates(t *testing.T) {
	terminal := []State{StateRefused, StateDeclined, StateBlocked, StateExpired, StateFailed, StateDone}
	for _, s := range States {
		if s.Terminal() != slices.Contains(terminal, s) {
			t.Errorf("%s: terminal %v", s, s.Terminal())
		}
		if s.Terminal() && len(s.Next()) > 0 {
			t.Errorf("%s is terminal but leads to %v", s, s.Next())
		}
	}
	if State("").Terminal() {
		t.Error("a new request is not terminal")
	}
	// Every state can still end: no cycle without a way out.
	for _, s := range States {
		if !reaches(s, func(x State) bool { return x.Terminal() }) {
			t.Errorf("%s never ends", s)
		}
	}
	// Nothing leads back to the customer once they or their server said no.
	for _, s := range []State{StateDeclined, StateBlocked, StateFailed, StateExpired, StateRefused} {
		if reaches(s, func(x State) bool { return x == StateRouting || x == StateInvited }) {
			t.Errorf("%s is retried", s)
		}
	}
}

func reaches(from State, goal func(State) bool) bool {
	seen := map[State]bool{}
	var walk func(State) bool
	walk = func(s State) bool {
		if goal(s) {
			return true
		}
		if seen[s] {
			return false
		}
		seen[s] = true
		for _, n := range s.Next() {
			if walk(n) {
				return true
			}
		}
		return false
	}
	for _, n := range from.Next() {
		if walk(n) {
			return true
		}
	}
	return from.Terminal() && goal(from)
}

func TestParseStateAndInitial(t *testing.T) {
	for _, s := range States {
		if got, err := ParseState(string(s)); err != nil || got != s {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := ParseState("sent"); err == nil {
		t.Error("sent accepted")
	}
	for v, want := range map[Verdict]State{Allowed: StateRouting, Deferred: StateDeferred, Refused: StateRefused} {
		if got := Initial(v); got != want {
			t.Errorf("%s: %s", v, got)
		}
	}
}

func TestInviteFailure(t *testing.T) {
	cases := []struct {
		code   string
		status int
		want   State
	}{
		{"M_FORBIDDEN", 403, StateBlocked},
		{"M_INVITE_BLOCKED", 403, StateBlocked},
		{"m_invite_blocked", 400, StateBlocked},
		{"", 403, StateBlocked},
		{"", 0, StateFailed},            // unreachable
		{"M_UNKNOWN", 502, StateFailed}, // the server could not reach the customer's
		{"M_LIMIT_EXCEEDED", 429, StateFailed},
	}
	for _, c := range cases {
		if got := InviteFailure(c.code, c.status); got != c.want {
			t.Errorf("%s %d: %s, want %s", c.code, c.status, got, c.want)
		}
		if !InviteFailure(c.code, c.status).Terminal() {
			t.Errorf("%s %d: not terminal", c.code, c.status)
		}
	}
}

func TestInviteFailureMessage(t *testing.T) {
	unreachable := `Post "matrix-federation://customer.example/_matrix/federation/v2/invite/!r/$e": dial tcp 127.0.0.1:8448: connect: connection refused`
	if got := InviteFailureMessage("M_FORBIDDEN", 403, unreachable); got != StateFailed {
		t.Errorf("unreachable behind M_FORBIDDEN: %s, want failed", got)
	}
	if got := InviteFailureMessage("M_FORBIDDEN", 403, "You are not invited to this room."); got != StateBlocked {
		t.Errorf("a refusal: %s, want blocked", got)
	}
}
