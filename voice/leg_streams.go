package voice

import (
	"errors"

	"github.com/pion/webrtc/v4"
)

// errBusy: the leg cannot renegotiate now (not answered yet, or an offer is in
// flight); try again later.
var errBusy = errors.New("voice: signalling busy")

// addExtraOutput adds an audio stream toward the leg's party with a stream ID
// of its own: matrix-js-sdk makes a feed of each stream and plays them all, so
// a supervisor heard on it is mixed by the client. No feeder until rerouted.
func (l *Leg) addExtraOutput() error {
	sid := "cc-" + randomID(8)
	inner, err := webrtc.NewTrackLocalStaticRTP(opusCodec.RTPCodecCapability, "audio-"+randomID(6), sid)
	if err != nil {
		return err
	}
	track := &boundTrack{TrackLocalStaticRTP: inner}
	sender, err := l.pc.AddTrack(track)
	if err != nil {
		return err
	}
	o := newOutput(l, kindAudio, track, sender)
	o.streamID = sid
	l.mu.Lock()
	l.extra = append(l.extra, o)
	l.mu.Unlock()
	if l.track() {
		go func() {
			defer l.wg.Done()
			l.drainRTCP(o)
		}()
	}
	return nil
}

// addStreams adds n audio streams and offers them with m.call.negotiate (the
// new streams listed unmuted in sdp_stream_metadata).
func (l *Leg) addStreams(n int) error {
	l.sigMu.Lock()
	defer l.sigMu.Unlock()
	switch l.State() {
	case LegEnded:
		return nil
	case LegRinging:
		return errBusy
	}
	l.mu.Lock()
	busy := l.makingOffer
	l.mu.Unlock()
	if busy || l.pc.SignalingState() != webrtc.SignalingStateStable {
		return errBusy
	}
	for range n {
		if err := l.addExtraOutput(); err != nil {
			return err
		}
	}
	return l.renegotiate()
}
