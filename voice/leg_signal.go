package voice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
)

// ErrOtherCall is returned by Leg.Handle for an event of another call_id.
var ErrOtherCall = errors.New("voice: event of another call")

// ErrLegState is returned when an operation does not fit the leg's state.
var ErrLegState = errors.New("voice: operation not valid in the leg's state")

// accept sets up a leg from a received invite: the remote offer is applied at
// once (so its candidates can be), the answer waits for Answer.
func (l *Leg) accept(inv *Invite) error {
	l.callID = inv.CallID
	l.remoteParty = inv.PartyID
	if l.lifetime <= 0 {
		l.lifetime = time.Duration(inv.Lifetime) * time.Millisecond
	}
	err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: inv.Offer.SDP})
	if err != nil {
		return fmt.Errorf("voice: remote offer: %w", err)
	}
	l.remoteSet = true
	if _, err := l.addOfferedOutputs(); err != nil {
		return err
	}
	l.after(l.lifetime, func() {
		if l.State() == LegRinging {
			l.end(ReasonInviteTimeout, "local", true)
		}
	})
	return nil
}

// dial places the relay's invite on a new leg.
func (l *Leg) dial(video bool) error {
	l.callID = randomID(12)
	if l.lifetime <= 0 {
		l.lifetime = l.e.cfg.InviteLifetime
	}
	if err := l.addOutput(kindAudio); err != nil {
		return err
	}
	for range l.reserve {
		if err := l.addExtraOutput(); err != nil {
			return err
		}
	}
	if video {
		if err := l.addOutput(kindVideo); err != nil {
			return err
		}
	}
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	l.send(&Invite{
		Common:         l.common(),
		Offer:          SessionDescription{Type: "offer", SDP: offer.SDP},
		Lifetime:       l.lifetime.Milliseconds(),
		Invitee:        l.invitee,
		StreamMetadata: l.metadata(),
	})
	l.batcher.Release()
	l.after(l.lifetime, func() {
		if l.State() == LegRinging {
			l.end(ReasonInviteTimeout, "local", true)
		}
	})
	return nil
}

// answer sends the relay's answer on a leg it accepted.
func (l *Leg) answer() error {
	l.sigMu.Lock()
	defer l.sigMu.Unlock()
	if l.outbound || l.State() != LegRinging {
		return ErrLegState
	}
	ans, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := l.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	l.mu.Lock()
	if l.state != LegRinging {
		l.mu.Unlock()
		return ErrLegState
	}
	l.state = LegAnswered
	l.mu.Unlock()
	l.send(&Answer{
		Common:         l.common(),
		Answer:         SessionDescription{Type: "answer", SDP: ans.SDP},
		StreamMetadata: l.metadata(),
	})
	l.batcher.Release()
	l.startConnectTimer()
	return nil
}

func (l *Leg) startConnectTimer() {
	l.after(l.e.cfg.ConnectTimeout, func() {
		if s := l.State(); s == LegAnswered {
			l.end(ReasonICETimeout, "local", true)
		}
	})
}

// fromRemote tells whether an event of party comes from this leg's party: any
// device of the invitee while the relay's invite rings, then only the one that
// answered. Version 0 clients send no party_id.
func (l *Leg) fromRemote(party string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remoteParty == "" || party == "" || party == l.remoteParty
}

// Handle applies an m.call.* event received in this leg's room. Events of
// another call_id return ErrOtherCall; the relay's own events (its party_id, as
// echoed by the homeserver) and events of parties not in the call are ignored.
func (l *Leg) Handle(ctx context.Context, m Message) error {
	c := m.common()
	if c.CallID != l.callID {
		return ErrOtherCall
	}
	if c.PartyID != "" && c.PartyID == l.partyID {
		return nil
	}
	if l.State() == LegEnded {
		return nil
	}
	switch m := m.(type) {
	case *Answer:
		return l.onAnswer(m)
	case *Candidates:
		return l.onCandidates(m)
	case *Negotiate:
		if !l.fromRemote(m.PartyID) {
			return nil
		}
		return l.onNegotiate(m)
	case *SelectAnswer:
		// Another device of the caller took the call's answer: this leg is not
		// in the call, and the spec wants no hangup for it.
		if !l.outbound && m.SelectedPartyID != l.partyID {
			l.end(ReasonUserHangup, "remote", false)
		}
	case *Reject:
		if l.outbound && l.State() == LegRinging {
			l.mu.Lock()
			l.rejected = true
			l.mu.Unlock()
			l.end(ReasonUserHangup, "remote", false)
		}
	case *Hangup:
		if l.fromRemote(m.PartyID) {
			l.end(m.Reason, "remote", false)
		}
	}
	return nil
}

func (l *Leg) onAnswer(m *Answer) error {
	l.sigMu.Lock()
	defer l.sigMu.Unlock()
	if !l.outbound || l.State() != LegRinging {
		return nil
	}
	err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.Answer.SDP})
	if err != nil {
		l.end(ReasonUnknownError, "local", true)
		return fmt.Errorf("voice: remote answer: %w", err)
	}
	l.mu.Lock()
	if l.state != LegRinging {
		l.mu.Unlock()
		return nil
	}
	l.state = LegAnswered
	l.remoteParty = m.PartyID
	l.remoteSet = true
	early := l.pending[m.PartyID]
	l.pending = nil
	l.mu.Unlock()
	l.send(&SelectAnswer{Common: l.common(), SelectedPartyID: m.PartyID})
	l.addCandidates(early)
	l.startConnectTimer()
	l.call.onAnswered(l)
	return nil
}

func (l *Leg) onCandidates(m *Candidates) error {
	l.mu.Lock()
	if l.remoteParty != "" && m.PartyID != "" && m.PartyID != l.remoteParty {
		l.mu.Unlock()
		return nil
	}
	if !l.remoteSet {
		l.pending[m.PartyID] = append(l.pending[m.PartyID], m.Candidates...)
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	l.addCandidates(m.Candidates)
	return nil
}

// addCandidates adds remote candidates; the end-of-candidates marker is skipped
// (pion needs none) and a bad candidate does not stop the others.
func (l *Leg) addCandidates(cs []Candidate) {
	for _, c := range cs {
		if c.Candidate == "" {
			continue
		}
		err := l.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
		if err != nil {
			l.log.Debug().Err(err).Msg("remote candidate refused")
		}
	}
}

// onNegotiate answers a renegotiation offer, or applies the answer to the
// relay's own. On a collision the callee side is polite (it drops its offer).
func (l *Leg) onNegotiate(m *Negotiate) error {
	l.sigMu.Lock()
	if m.Description.Type == "answer" {
		defer l.sigMu.Unlock()
		if l.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
			return nil
		}
		return l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.Description.SDP})
	}
	l.mu.Lock()
	collision := l.makingOffer || l.pc.SignalingState() != webrtc.SignalingStateStable
	l.mu.Unlock()
	polite := !l.outbound
	if collision && !polite {
		l.sigMu.Unlock()
		return nil
	}
	if collision {
		if err := l.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			l.sigMu.Unlock()
			return err
		}
	}
	if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.Description.SDP}); err != nil {
		l.sigMu.Unlock()
		return fmt.Errorf("voice: negotiate offer: %w", err)
	}
	video, err := l.addOfferedOutputs()
	if err != nil {
		l.sigMu.Unlock()
		return err
	}
	ans, err := l.pc.CreateAnswer(nil)
	if err == nil {
		err = l.pc.SetLocalDescription(ans)
	}
	if err != nil {
		l.sigMu.Unlock()
		return err
	}
	l.send(&Negotiate{
		Common:         l.common(),
		Description:    SessionDescription{Type: "answer", SDP: ans.SDP},
		StreamMetadata: l.metadata(),
	})
	l.sigMu.Unlock()
	if video {
		l.call.onVideoAdded(l)
	}
	return nil
}

// offerVideo adds a video stream toward this leg's party with m.call.negotiate.
func (l *Leg) offerVideo() error {
	l.sigMu.Lock()
	defer l.sigMu.Unlock()
	if l.State() == LegEnded || l.out[kindVideo].Load() != nil {
		return nil
	}
	if err := l.addOutput(kindVideo); err != nil {
		return err
	}
	return l.renegotiate()
}

// renegotiate offers this leg's current streams to its party with m.call.negotiate.
// The caller holds sigMu; makingOffer tells glare handling that an offer is ours.
func (l *Leg) renegotiate() error {
	l.mu.Lock()
	l.makingOffer = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.makingOffer = false
		l.mu.Unlock()
	}()
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	l.send(&Negotiate{
		Common:         l.common(),
		Description:    SessionDescription{Type: "offer", SDP: offer.SDP},
		Lifetime:       l.e.cfg.InviteLifetime.Milliseconds(),
		StreamMetadata: l.metadata(),
	})
	return nil
}
