package voicetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Peer is a pion endpoint speaking legacy Matrix VoIP like a client: it places
// or answers invites, trickles candidates in batches, sends test packets and
// checks what it receives.
type Peer struct {
	Name string
	pc   *webrtc.PeerConnection
	send func(voice.Message)

	audio, video *webrtc.TrackLocalStaticRTP
	streamID     string
	batcher      *voice.CandidateBatcher

	Audio, Video *Receiver
	// PLIs counts keyframe requests that reached this peer's video sender.
	PLIs atomic.Int64
	// Invites are invites received (the peer rings).
	Invites chan *voice.Invite
	// Ended gets the reason when the other side hangs up or rejects.
	Ended chan voice.HangupReason
	// Connected is closed when media connects.
	Connected chan struct{}

	mu          sync.Mutex
	callID      string
	partyID     string
	remoteParty string
	remoteSet   bool
	pending     []voice.Candidate
	remoteMeta  map[string]voice.StreamMetadata
	streamIDs   []string
	videoSSRC   webrtc.SSRC
	wg          sync.WaitGroup
	closed      bool
	connOnce    sync.Once
	seq         [2]uint16 // next test packet's, audio and video
	ts          [2]uint32
	seqSet      [2]bool
}

// PeerOptions configure a peer.
type PeerOptions struct {
	Name  string
	Video bool
	// Send delivers the peer's events to the relay (usually a Pipe's Send).
	Send func(voice.Message)
}

func rid(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewPeer creates a peer with an audio track (and video if asked).
func NewPeer(api *webrtc.API, opts PeerOptions) (*Peer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		return nil, err
	}
	p := &Peer{
		Name: opts.Name, pc: pc, send: opts.Send, streamID: "peer-" + rid(4), partyID: rid(6),
		Audio: NewReceiver(), Video: NewReceiver(),
		Invites: make(chan *voice.Invite, 4), Ended: make(chan voice.HangupReason, 4), Connected: make(chan struct{}),
	}
	p.batcher = voice.NewCandidateBatcher(voice.CandidateBatchDelay, func(b []voice.Candidate) {
		p.send(&voice.Candidates{Common: p.common(), Candidates: b})
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			p.batcher.End("0")
			return
		}
		j := c.ToJSON()
		p.batcher.Add(voice.Candidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.connOnce.Do(func() { close(p.Connected) })
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.mu.Lock()
		p.streamIDs = append(p.streamIDs, t.StreamID())
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			p.videoSSRC = t.SSRC()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			r := p.Audio
			if t.Kind() == webrtc.RTPCodecTypeVideo {
				r = p.Video
			}
			buf := make([]byte, 1500)
			var pk rtp.Packet
			for {
				n, _, err := t.Read(buf)
				if err != nil {
					return
				}
				if pk.Unmarshal(buf[:n]) == nil {
					r.Add(pk.Payload, pk.SequenceNumber)
				}
			}
		}()
	})
	if p.audio, err = p.addTrack(webrtc.MimeTypeOpus, 48000, 2); err != nil {
		return nil, err
	}
	if opts.Video {
		if p.video, err = p.addTrack(webrtc.MimeTypeVP8, 90000, 0); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Peer) addTrack(mime string, clock uint32, channels uint16) (*webrtc.TrackLocalStaticRTP, error) {
	t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: clock, Channels: channels},
		mime[:5]+"-"+rid(3), p.streamID)
	if err != nil {
		return nil, err
	}
	s, err := p.pc.AddTrack(t)
	if err != nil {
		return nil, err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			n, _, err := s.Read(buf)
			if err != nil {
				return
			}
			pkts, err := rtcp.Unmarshal(buf[:n])
			if err != nil {
				continue
			}
			for _, pk := range pkts {
				switch pk.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.PLIs.Add(1)
				}
			}
		}
	}()
	return t, nil
}

func (p *Peer) common() voice.Common {
	p.mu.Lock()
	defer p.mu.Unlock()
	return voice.Common{CallID: p.callID, PartyID: p.partyID, Version: voice.Version}
}

func (p *Peer) meta() map[string]voice.StreamMetadata {
	return map[string]voice.StreamMetadata{p.streamID: {Purpose: voice.PurposeUserMedia, VideoMuted: p.video == nil}}
}

// Invite places a call: it sends an invite and returns it.
func (p *Peer) Invite(invitee string) (*voice.Invite, error) { return p.InviteWithID(invitee, rid(8)) }

// InviteWithID places a call with a given call_id (glare tests).
func (p *Peer) InviteWithID(invitee, callID string) (*voice.Invite, error) {
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.callID = callID
	p.mu.Unlock()
	inv := &voice.Invite{Common: p.common(), Offer: voice.SessionDescription{Type: "offer", SDP: offer.SDP},
		Lifetime: voice.DefaultLifetime, Invitee: invitee, StreamMetadata: p.meta()}
	p.send(inv)
	p.batcher.Release()
	return inv, nil
}

// Answer answers a received invite.
func (p *Peer) Answer(inv *voice.Invite) error {
	p.mu.Lock()
	p.callID, p.remoteParty, p.remoteMeta = inv.CallID, inv.PartyID, inv.StreamMetadata
	p.mu.Unlock()
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: inv.Offer.SDP}); err != nil {
		return err
	}
	p.applyRemote()
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	p.send(&voice.Answer{Common: p.common(), Answer: voice.SessionDescription{Type: "answer", SDP: ans.SDP}, StreamMetadata: p.meta()})
	p.batcher.Release()
	return nil
}

// Reject declines a received invite.
func (p *Peer) Reject(inv *voice.Invite) {
	p.send(&voice.Reject{Common: voice.Common{CallID: inv.CallID, PartyID: p.partyID, Version: voice.Version}})
}

func (p *Peer) applyRemote() {
	p.mu.Lock()
	p.remoteSet = true
	cs := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, c := range cs {
		if c.Candidate != "" {
			_ = p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
		}
	}
}

// Handle takes an event from the relay.
func (p *Peer) Handle(m voice.Message) {
	switch m := m.(type) {
	case *voice.Invite:
		p.Invites <- m
	case *voice.Answer:
		p.mu.Lock()
		p.remoteParty, p.remoteMeta = m.PartyID, m.StreamMetadata
		p.mu.Unlock()
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.Answer.SDP}); err != nil {
			return
		}
		p.send(&voice.SelectAnswer{Common: p.common(), SelectedPartyID: m.PartyID})
		p.applyRemote()
	case *voice.Candidates:
		p.mu.Lock()
		if !p.remoteSet {
			p.pending = append(p.pending, m.Candidates...)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for _, c := range m.Candidates {
			if c.Candidate != "" {
				_ = p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
			}
		}
	case *voice.Negotiate:
		if m.Description.Type != "offer" {
			_ = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.Description.SDP})
			return
		}
		p.mu.Lock()
		p.remoteMeta = m.StreamMetadata
		p.mu.Unlock()
		if p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.Description.SDP}) != nil {
			return
		}
		ans, err := p.pc.CreateAnswer(nil)
		if err != nil || p.pc.SetLocalDescription(ans) != nil {
			return
		}
		p.send(&voice.Negotiate{Common: p.common(), Description: voice.SessionDescription{Type: "answer", SDP: ans.SDP}, StreamMetadata: p.meta()})
	case *voice.Hangup:
		p.Ended <- m.Reason
	case *voice.Reject:
		p.Ended <- voice.ReasonUserHangup
	}
}

// Hangup ends the call from this side.
func (p *Peer) Hangup(reason voice.HangupReason) {
	p.send(&voice.Hangup{Common: p.common(), Reason: reason})
}

// Stream sends n test packets (indexes first..first+n-1) of size bytes at one
// per interval on the audio (or video) track, with continuous sequence numbers
// and timestamps.
func (p *Peer) Stream(ctx context.Context, video bool, first uint64, n, size int, interval time.Duration) error {
	t, pt, step := p.audio, uint8(111), uint32(960)
	if video {
		t, pt, step = p.video, 96, 3000
	}
	if t == nil {
		return errors.New("no such track")
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	// Sequence numbers go on from the last Stream: a repeated one would be
	// dropped as an SRTP replay.
	k := 0
	if video {
		k = 1
	}
	p.mu.Lock()
	if !p.seqSet[k] {
		p.seq[k], p.ts[k], p.seqSet[k] = 1000, 5000, true
	}
	seq, ts := p.seq[k], p.ts[k]
	p.seq[k], p.ts[k] = seq+uint16(n), ts+uint32(n)*step
	p.mu.Unlock()
	for i := 0; i < n; i++ {
		pk := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, Marker: video}, Payload: MakePayload(first+uint64(i), size)}
		if err := t.WriteRTP(pk); err != nil {
			return err
		}
		seq++
		ts += step
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// RequestKeyframe sends a PLI for the video this peer receives.
func (p *Peer) RequestKeyframe() error {
	p.mu.Lock()
	ssrc := p.videoSSRC
	p.mu.Unlock()
	if ssrc == 0 {
		return errors.New("no video received yet")
	}
	return p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}})
}

// CheckStreams verifies that every received track has a non-empty msid stream
// ID listed in the sdp_stream_metadata the peer got (what matrix-js-sdk needs).
func (p *Peer) CheckStreams() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.streamIDs) == 0 {
		return errors.New("no remote track")
	}
	for _, id := range p.streamIDs {
		if id == "" {
			return errors.New("remote track without msid stream ID")
		}
		if _, ok := p.remoteMeta[id]; !ok {
			return fmt.Errorf("stream %q not in sdp_stream_metadata %v", id, p.remoteMeta)
		}
	}
	return nil
}

// SelectedPair returns the addresses of the selected ICE candidate pair.
func (p *Peer) SelectedPair() (local, remote string, err error) {
	for _, s := range p.pc.GetSenders() {
		if s.Transport() == nil {
			continue
		}
		pair, err := s.Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			continue
		}
		return pair.Local.Address, pair.Remote.Address, nil
	}
	return "", "", errors.New("no selected candidate pair")
}

// Close ends the peer's PeerConnection and waits for its goroutines.
func (p *Peer) Close() {
	p.batcher.Stop()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.pc.GracefulClose()
	p.wg.Wait()
}

// StreamIDs are the msid stream IDs of the tracks received so far, in order.
func (p *Peer) StreamIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string{}, p.streamIDs...)
}
