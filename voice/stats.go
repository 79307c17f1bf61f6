package voice

import (
	"sync/atomic"
	"time"
)

type flowCounters struct {
	packets, bytes atomic.Uint64
}

func (f *flowCounters) add(n int) {
	f.packets.Add(1)
	f.bytes.Add(uint64(n))
}

// legCounters are updated on the media path, hence atomics.
type legCounters struct {
	received    flowCounters  // from this leg's party
	forwarded   flowCounters  // of those, written to the other leg
	recvDropped atomic.Uint64 // from this leg's party, not forwarded
	sent        flowCounters  // written toward this leg's party
	sentDropped atomic.Uint64 // meant for this leg's party, not written
	keyframeReq atomic.Uint64 // PLI/FIR from this leg's party passed to the source
}

// Flow is a packet and byte count.
type Flow struct {
	Packets uint64
	Bytes   uint64
}

// LegStats are the figures of one leg. "From party" is media the leg's party
// sent (to be forwarded to the other leg), "to party" media sent to it.
type LegStats struct {
	Role      Role
	CallID    string // the Matrix call_id of this leg
	State     LegState
	SetupTime time.Duration // leg created → media connected (0 if never)
	Duration  time.Duration // connected → ended (or now)
	EndReason HangupReason
	EndedBy   string // "local", "remote" or ""

	Received         Flow   // from the party
	Forwarded        Flow   // from the party, forwarded to the other leg
	ReceivedDropped  uint64 // from the party, not forwarded (no other leg yet, wrong payload type, write error)
	Sent             Flow   // to the party
	SentDropped      uint64 // to the party, not written
	KeyframeRequests uint64 // PLI/FIR from the party passed to the other leg's source
}

// CallStats are the figures of a call: its own and those of its legs.
type CallStats struct {
	ID        string
	State     CallState
	SetupTime time.Duration // customer invite → both legs bridged with media connected
	Duration  time.Duration // bridged → ended (or now)
	EndReason HangupReason
	Customer  *LegStats
	Agents    []LegStats // every agent leg the call had, in order
	Beside    []LegStats // every leg DialSupervisor placed, in order
}
