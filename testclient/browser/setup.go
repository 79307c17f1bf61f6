package browser

import (
	"context"
	"fmt"
	"time"
)

// Setup is one call from a caller to a callee, timed from placeVoiceCall until
// each side hears the other's tone (the clocks are the same machine's).
type Setup struct {
	Placed      *Placed
	Answered    *Answered
	CallerHears *Tone // the callee's tone, at the caller
	CalleeHears *Tone // the caller's tone, at the callee
}

// Duration is placeVoiceCall → both hear each other.
func (s *Setup) Duration() time.Duration {
	last := s.CallerHears.HeardAt
	if s.CalleeHears.HeardAt.After(last) {
		last = s.CalleeHears.HeardAt
	}
	return last.Sub(s.Placed.PlacedAt)
}

// AnswerTime is placeVoiceCall → the callee answered.
func (s *Setup) AnswerTime() time.Duration { return s.Answered.AnsweredAt.Sub(s.Placed.PlacedAt) }

// TwoWayCall has callee answer the next call that rings while caller places a
// voice call in roomID, then waits until each hears the other's tone (the
// caller hears callee.ToneHz, the callee caller.ToneHz). The callee need not be
// in roomID: a relay may ring it elsewhere. The call stays up; hang up after.
func TwoWayCall(ctx context.Context, caller, callee *Browser, roomID string, timeout time.Duration) (*Setup, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type answer struct {
		a   *Answered
		err error
	}
	answered := make(chan answer, 1)
	go func() {
		a, err := callee.AnswerNext(ctx, timeout)
		answered <- answer{a, err}
	}()
	placed, err := caller.PlaceCall(ctx, roomID)
	if err != nil {
		cancel()
		<-answered
		return nil, fmt.Errorf("caller places the call: %w", err)
	}
	ans := <-answered
	if ans.err != nil {
		return nil, fmt.Errorf("callee answers: %w", ans.err)
	}
	s := &Setup{Placed: placed, Answered: ans.a}
	type heard struct {
		t   *Tone
		err error
	}
	calleeHeard := make(chan heard, 1)
	go func() {
		t, err := callee.HearsTone(ctx, caller.ToneHz, timeout)
		calleeHeard <- heard{t, err}
	}()
	s.CallerHears, err = caller.HearsTone(ctx, callee.ToneHz, timeout)
	if err != nil {
		cancel()
	}
	h := <-calleeHeard
	if err != nil {
		return nil, fmt.Errorf("caller hears the callee's %v Hz: %w", callee.ToneHz, err)
	}
	if h.err != nil {
		return nil, fmt.Errorf("callee hears the caller's %v Hz: %w", caller.ToneHz, h.err)
	}
	s.CalleeHears = h.t
	return s, nil
}
