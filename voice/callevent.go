package voice

// CallState is where a call is.
type CallState int

// Call states.
const (
	CallRinging  CallState = iota // no agent bridged (yet, or again after an agent left during a transfer)
	CallAnswered                  // an agent leg is bridged to the customer leg
	CallEnded
)

func (s CallState) String() string { return [...]string{"ringing", "answered", "ended"}[s] }

// EventKind names what happened to a call.
type EventKind int

// Events a call reports.
const (
	// EventLegConnected: a leg's media connected.
	EventLegConnected EventKind = iota
	// EventAnswered: an agent leg answered and is now bridged to the customer
	// (the customer leg is answered by then).
	EventAnswered
	// EventLegEnded: a leg ended (Reason, Remote, Rejected say how). An agent leg
	// that ends while ringing leaves the call ringing: ring the next agent or
	// hang up the call.
	EventLegEnded
	// EventCallEnded: the call ended; every leg is ended or ending.
	EventCallEnded
	// EventBesideAnswered: a leg beside the call (DialSupervisor) answered and
	// is in the forwarding.
	EventBesideAnswered
)

func (k EventKind) String() string {
	return [...]string{"leg_connected", "answered", "leg_ended", "call_ended", "beside_answered"}[k]
}

// Event is reported to CallOptions.OnEvent.
type Event struct {
	Kind     EventKind
	Call     *Call
	Leg      *Leg // nil for EventCallEnded
	Reason   HangupReason
	Remote   bool // the leg's party ended it
	Rejected bool // the agent declined the relay's invite (m.call.reject)
}
