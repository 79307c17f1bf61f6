package voice

import (
	"errors"
	"io"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// Recording: each direction of a call (what the customer says, what the agent
// bridged to them says) to its own Ogg/Opus stream, the packets as they came
// (no transcoding). It runs only between StartRecording and StopRecording: the
// caller decides when (the customer's consent), and a stop takes effect before
// the next packet.

// RecordingSinks are where a call's recording goes. A sink that is an
// io.Closer is closed when the recording stops; one that can seek and write at
// an offset (a file) gets the end-of-stream mark on its last page.
type RecordingSinks struct {
	Customer io.Writer // the customer's audio
	Agent    io.Writer // the bridged agent's audio (the agent after a transfer too)
}

// DirectionStats are the figures of one recorded direction.
type DirectionStats struct {
	Packets uint64
	Bytes   uint64 // Opus payload bytes written
	Samples uint64 // at 48 kHz
	Errors  uint64 // packets that could not be written
}

// RecordingStats are the figures of a recording.
type RecordingStats struct {
	Customer, Agent DirectionStats
}

// recordingSSRC is the one track of each recorded stream.
const recordingSSRC = 1

type direction struct {
	w     *oggwriter.Writer
	track *oggwriter.Track
	st    DirectionStats
}

type recording struct {
	c      *Call
	mu     sync.Mutex
	closed bool
	dirs   [2]*direction // customer, agent
}

func newDirection(w io.Writer) (*direction, error) {
	opts := []oggwriter.WriterOption{oggwriter.WithSampleRate(48000), oggwriter.WithChannelCount(2)}
	if s, ok := w.(interface {
		io.Seeker
		io.WriterAt
	}); ok {
		opts = append(opts, oggwriter.WithSeekableOutput(s))
	}
	ow, err := oggwriter.NewWriter(w, opts...)
	if err != nil {
		return nil, err
	}
	t, err := ow.NewTrack(recordingSSRC)
	if err != nil {
		return nil, err
	}
	return &direction{w: ow, track: t}, nil
}

// ErrRecording is returned by StartRecording while a recording runs.
var ErrRecording = errors.New("voice: the call is being recorded already")

// StartRecording records the call from now on into sinks.
func (c *Call) StartRecording(sinks RecordingSinks) error {
	if sinks.Customer == nil || sinks.Agent == nil {
		return errors.New("voice: recording needs both sinks")
	}
	if c.State() == CallEnded {
		return ErrCallState
	}
	r := &recording{c: c}
	for i, w := range []io.Writer{sinks.Customer, sinks.Agent} {
		d, err := newDirection(w)
		if err != nil {
			return err
		}
		r.dirs[i] = d
	}
	if !c.rec.CompareAndSwap(nil, r) {
		return ErrRecording
	}
	return nil
}

// Recording tells whether a recording runs.
func (c *Call) Recording() bool { return c.rec.Load() != nil }

// StopRecording stops the recording at once and closes its streams; ok is
// false when none ran.
func (c *Call) StopRecording() (st RecordingStats, ok bool, err error) {
	r := c.rec.Swap(nil)
	if r == nil {
		return st, false, nil
	}
	st, err = r.close()
	c.mu.Lock()
	c.lastRec = st
	c.mu.Unlock()
	return st, true, err
}

// LastRecording is the figures of the recording stopped last (by StopRecording
// or by the call's end).
func (c *Call) LastRecording() RecordingStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastRec
}

func (c *Call) stopRecording() {
	if _, _, err := c.StopRecording(); err != nil {
		c.log.Warn().Err(err).Msg("closing the recording failed")
	}
}

func (r *recording) close() (RecordingStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var errs []error
	for _, d := range r.dirs {
		errs = append(errs, d.w.Close())
	}
	return RecordingStats{Customer: r.dirs[0].st, Agent: r.dirs[1].st}, errors.Join(errs...)
}

// write records one packet of l's party: the customer's, or the bridged
// agent's; no one else is recorded.
func (r *recording) write(l *Leg, p *rtp.Packet) {
	i := 0
	switch {
	case l.role == RoleCustomer:
	case r.c.mainAgent.Load() == l:
		i = 1
	default:
		return
	}
	q := *p
	q.SSRC = recordingSSRC
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	d := r.dirs[i]
	if err := d.track.WriteRTP(&q); err != nil {
		d.st.Errors++
		return
	}
	d.st.Packets++
	d.st.Bytes += uint64(len(q.Payload))
	d.st.Samples += uint64(OpusPacketSamples(q.Payload))
}
