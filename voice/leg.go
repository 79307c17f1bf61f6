package voice

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// Role is the side of a call a leg connects.
type Role int

// The sides of a relayed call: the customer, agents, and supervisors (legs
// beside the call that listen, whisper or barge; see Mode).
const (
	RoleCustomer Role = iota
	RoleAgent
	RoleSupervisor
)

func (r Role) String() string {
	switch r {
	case RoleAgent:
		return "agent"
	case RoleSupervisor:
		return "supervisor"
	}
	return "customer"
}

// LegState is where a leg is in its life.
type LegState int

// Leg states, in order.
const (
	LegRinging   LegState = iota // invite sent or received, no answer yet
	LegAnswered                  // offer and answer exchanged, media connecting
	LegConnected                 // media flowing (DTLS connected)
	LegEnded
)

func (s LegState) String() string {
	return [...]string{"ringing", "answered", "connected", "ended"}[s]
}

// LegOptions are given when a leg is created.
type LegOptions struct {
	// Send delivers an event of this leg to its room, in call order. It is called
	// from the relay's goroutines, must not block for long and must not wait for
	// a call back into the leg.
	Send func(Message)
	// Invitee is the Matrix ID rung by an invite the relay places: clients ring
	// only for invites naming them.
	Invitee string
	// Lifetime: for an invite the relay places, its lifetime (default
	// Config.InviteLifetime); for an invite received, how long it may stay
	// unanswered (default the invite's lifetime; pass the remaining time when the
	// invite event is already old). It then ends with invite_timeout.
	Lifetime time.Duration
	// Video offers a camera stream on an invite the relay places; by default an
	// agent leg offers video when the customer's leg has it.
	Video *bool
	// ExtraStreams reserves that many more audio streams on an invite the relay
	// places, each with its own stream ID and silent until used, so a supervisor
	// can be heard on this leg without renegotiating (more are added with
	// m.call.negotiate when needed).
	ExtraStreams int
	// Warm keeps the agent bridged now in the call when this agent leg (placed
	// by DialAgent) answers: the previous agent stays as a full participant
	// until hung up. Without it the previous agent leg is hung up then.
	Warm bool
}

// Leg is one side of a call: a PeerConnection and its Matrix call (call_id,
// party IDs). The relay is the callee of a leg it accepted (the customer's
// invite) and the caller of a leg it placed (the invite to an agent).
type Leg struct {
	e        *Engine
	call     *Call
	role     Role
	id       uint64 // feeder ID of this leg's media
	callID   string
	partyID  string
	outbound bool
	invitee  string
	lifetime time.Duration
	send     func(Message)
	log      zerolog.Logger
	pc       *webrtc.PeerConnection
	streamID string
	batcher  *CandidateBatcher
	created  time.Time
	done     chan struct{} // closed once the PeerConnection and every goroutine of the leg ended

	out       [2]atomic.Pointer[output] // audio, video sent to this leg's party
	routes    atomic.Pointer[[]*output] // where this party's audio goes (see Call.reroute)
	peer      atomic.Pointer[Leg]       // the leg this one is bridged to (video)
	videoSSRC atomic.Uint32             // SSRC of the party's incoming video
	lastPLI   atomic.Int64
	st        legCounters

	sigMu sync.Mutex // serialises signalling (pion offer/answer calls)

	mu          sync.Mutex
	state       LegState
	remoteParty string
	remoteSet   bool
	pending     map[string][]Candidate // remote candidates by party, before the remote description
	makingOffer bool
	closing     bool
	wg          sync.WaitGroup // forward and RTCP goroutines
	timers      []*time.Timer
	connectedAt time.Time
	endedAt     time.Time
	endReason   HangupReason
	endedBy     string
	rejected    bool
	extra       []*output // audio streams beyond out[kindAudio], each its own stream ID
	reserve     int       // extra streams to set up with the invite
	warm        bool
	growing     bool // more audio streams are being negotiated
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *Call) newLeg(role Role, opts LegOptions, outbound bool) (*Leg, error) {
	pc, err := c.e.api.NewPeerConnection(c.e.cfg.peerConfig())
	if err != nil {
		return nil, err
	}
	l := &Leg{
		e: c.e, call: c, role: role, id: c.e.nextID(), partyID: randomID(8),
		outbound: outbound, invitee: opts.Invitee, lifetime: opts.Lifetime, send: opts.Send,
		reserve: max(opts.ExtraStreams, 0), warm: opts.Warm,
		pc: pc, streamID: "cc-" + randomID(8), created: time.Now(), done: make(chan struct{}),
		pending: map[string][]Candidate{},
	}
	l.log = c.log.With().Str("leg", role.String()).Uint64("leg_id", l.id).Logger()
	l.batcher = NewCandidateBatcher(CandidateBatchDelay, func(b []Candidate) {
		l.send(&Candidates{Common: l.common(), Candidates: b})
	})
	pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
		if ic == nil {
			l.batcher.End(l.firstMid())
			return
		}
		j := ic.ToJSON()
		l.batcher.Add(Candidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex})
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !l.track() {
			return
		}
		go func() {
			defer l.wg.Done()
			l.forward(t)
		}()
	})
	pc.OnConnectionStateChange(l.onConnectionState)
	return l, nil
}

// track counts a goroutine of the leg, unless the leg is closing.
func (l *Leg) track() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	l.wg.Add(1)
	return true
}

func (l *Leg) common() Common {
	return Common{CallID: l.callID, PartyID: l.partyID, Version: Version}
}

func (l *Leg) firstMid() string {
	for _, t := range l.pc.GetTransceivers() {
		if m := t.Mid(); m != "" {
			return m
		}
	}
	return "0"
}

// addOutput adds the stream sent to this leg's party for a kind. Each stream has
// the leg's msid stream ID: matrix-js-sdk drops a call whose tracks have none.
func (l *Leg) addOutput(kind int) error {
	if l.out[kind].Load() != nil {
		return nil
	}
	codec, name := opusCodec.RTPCodecCapability, "audio-"
	if kind == kindVideo {
		codec, name = vp8Codec.RTPCodecCapability, "video-"
	}
	inner, err := webrtc.NewTrackLocalStaticRTP(codec, name+randomID(6), l.streamID)
	if err != nil {
		return err
	}
	track := &boundTrack{TrackLocalStaticRTP: inner}
	sender, err := l.pc.AddTrack(track)
	if err != nil {
		return err
	}
	o := newOutput(l, kind, track, sender)
	if peer := l.peer.Load(); peer != nil {
		o.setFeeder(peer.id)
	}
	l.out[kind].Store(o)
	if l.track() {
		go func() {
			defer l.wg.Done()
			l.drainRTCP(o)
		}()
	}
	return nil
}

// addOfferedOutputs adds an output for each kind the remote description offers.
// It reports whether video was added.
func (l *Leg) addOfferedOutputs() (video bool, err error) {
	for _, t := range l.pc.GetTransceivers() {
		k := kindIndex(t.Kind())
		if l.out[k].Load() != nil || t.Direction() == webrtc.RTPTransceiverDirectionInactive {
			continue
		}
		if err := l.addOutput(k); err != nil {
			return video, err
		}
		video = video || k == kindVideo
	}
	return video, nil
}

// metadata lists every stream this leg sends: unmuted, since a feed first
// announced muted is never played by matrix-js-sdk (an extra stream stays
// silent until someone is heard on it).
func (l *Leg) metadata() map[string]StreamMetadata {
	m := map[string]StreamMetadata{l.streamID: {
		Purpose: PurposeUserMedia, VideoMuted: l.out[kindVideo].Load() == nil,
	}}
	for _, o := range l.extraOutputs() {
		m[o.streamID] = StreamMetadata{Purpose: PurposeUserMedia, VideoMuted: true}
	}
	return m
}

func (l *Leg) after(d time.Duration, f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == LegEnded {
		return
	}
	l.timers = append(l.timers, time.AfterFunc(d, f))
}

func (l *Leg) onConnectionState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		l.mu.Lock()
		if l.state == LegEnded || !l.connectedAt.IsZero() {
			l.mu.Unlock()
			return
		}
		l.connectedAt = time.Now()
		l.state = LegConnected
		l.mu.Unlock()
		l.log.Debug().Dur("setup", l.connectedAt.Sub(l.created)).Msg("leg connected")
		l.call.onLegConnected(l)
	case webrtc.PeerConnectionStateFailed:
		l.end(ReasonICEFailed, "local", true)
	}
}

// end ends the leg once: sends a hangup when told to, closes the PeerConnection
// in the background and tells the call.
func (l *Leg) end(reason HangupReason, by string, sendHangup bool) {
	l.mu.Lock()
	if l.state == LegEnded {
		l.mu.Unlock()
		return
	}
	l.state, l.endReason, l.endedBy, l.endedAt = LegEnded, reason, by, time.Now()
	l.closing = true
	for _, t := range l.timers {
		t.Stop()
	}
	l.timers = nil
	l.mu.Unlock()
	l.batcher.Stop()
	if sendHangup {
		l.send(&Hangup{Common: l.common(), Reason: reason})
	}
	l.log.Debug().Str("reason", string(reason)).Str("by", by).Msg("leg ended")
	l.e.spawn(func() {
		_ = l.pc.GracefulClose()
		l.wg.Wait()
		close(l.done)
	})
	l.call.onLegEnded(l)
}

// Hangup ends the leg with reason (a spec reason; unknown_error otherwise) and
// tells its party.
func (l *Leg) Hangup(reason HangupReason) {
	if !reason.Valid() {
		reason = ReasonUnknownError
	}
	l.end(reason, "local", true)
}

// MediaReady tells whether the leg's media is connected and every stream to its
// party is bound (before that, packets for the party are dropped).
func (l *Leg) MediaReady() bool {
	if l.State() != LegConnected {
		return false
	}
	for k := range l.out {
		if o := l.out[k].Load(); o != nil && o.track.bound.Load() <= 0 {
			return false
		}
	}
	for _, o := range l.extraOutputs() {
		if o.track.bound.Load() <= 0 {
			return false
		}
	}
	return true
}

// Done is closed once the leg ended and all its resources are released.
func (l *Leg) Done() <-chan struct{} { return l.done }

// CallID is the Matrix call_id of this leg.
func (l *Leg) CallID() string { return l.callID }

// PartyID is the relay's party_id on this leg.
func (l *Leg) PartyID() string { return l.partyID }

// Role is the side of the call this leg connects.
func (l *Leg) Role() Role { return l.role }

// Call is the call this leg belongs to.
func (l *Leg) Call() *Call { return l.call }

// State is the leg's state now.
func (l *Leg) State() LegState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Stats returns the leg's figures now.
func (l *Leg) Stats() LegStats {
	l.mu.Lock()
	s := LegStats{Role: l.role, CallID: l.callID, State: l.state, EndReason: l.endReason, EndedBy: l.endedBy}
	if !l.connectedAt.IsZero() {
		s.SetupTime = l.connectedAt.Sub(l.created)
		end := l.endedAt
		if end.IsZero() {
			end = time.Now()
		}
		s.Duration = end.Sub(l.connectedAt)
	}
	l.mu.Unlock()
	s.Received = Flow{l.st.received.packets.Load(), l.st.received.bytes.Load()}
	s.Forwarded = Flow{l.st.forwarded.packets.Load(), l.st.forwarded.bytes.Load()}
	s.ReceivedDropped = l.st.recvDropped.Load()
	s.Sent = Flow{l.st.sent.packets.Load(), l.st.sent.bytes.Load()}
	s.SentDropped = l.st.sentDropped.Load()
	s.KeyframeRequests = l.st.keyframeReq.Load()
	return s
}
