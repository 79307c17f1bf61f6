package voicebench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

// The cost of supervision and recording: a relayed call with a supervisor
// listening (a third leg, hearing the customer and the agent on two streams), or
// recorded (each direction to its own Ogg/Opus file, packets as they come).

// supervise adds what opts asks to a relayed call: a listener, a recording.
func supervise(ctx context.Context, api *webrtc.API, c *call, i int, opts Options) error {
	if opts.Listeners {
		if err := addListener(ctx, api, c, i); err != nil {
			return err
		}
	}
	if opts.RecordDir == "" {
		return nil
	}
	for _, dir := range []string{"customer", "agent"} {
		f, err := os.OpenFile(filepath.Join(opts.RecordDir, fmt.Sprintf("call%d-%s.ogg", i, dir)), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		c.files = append(c.files, f)
	}
	return c.leg.StartRecording(voice.RecordingSinks{Customer: c.files[0], Agent: c.files[1]})
}

// addListener rings a supervisor in listen mode and makes their client answer.
func addListener(ctx context.Context, api *webrtc.API, c *call, i int) error {
	to, from := voicetest.NewPipe(), voicetest.NewPipe()
	c.pipes = append(c.pipes, to, from)
	var err error
	if c.sup, err = voicetest.NewPeer(api, voicetest.PeerOptions{Name: fmt.Sprintf("supervisor%d", i), Send: from.Send}); err != nil {
		return err
	}
	to.SetTarget(c.sup.Handle)
	l, err := c.leg.DialSupervisor(ctx, voice.LegOptions{Send: to.Send, Invitee: "@supervisor:hs"}, voice.RoleSupervisor, voice.ModeListen)
	if err != nil {
		return err
	}
	from.SetTarget(func(m voice.Message) { _ = l.Handle(ctx, m) })
	select {
	case inv := <-c.sup.Invites:
		if err := c.sup.Answer(inv); err != nil {
			return err
		}
	case <-time.After(5 * time.Second):
		return errors.New("supervisor not rung")
	}
	if err := waitConnected(c.sup); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	// The leg reserves the agent's stream beside the customer's at setup.
	for !l.MediaReady() {
		if time.Now().After(deadline) {
			return errors.New("the listener's leg is not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// recordedBytes stops the calls' recordings and sums their files.
func recordedBytes(calls []*call) int64 {
	var n int64
	for _, c := range calls {
		if len(c.files) == 0 {
			continue
		}
		_, _, _ = c.leg.StopRecording()
		for _, f := range c.files {
			if fi, err := os.Stat(f.Name()); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// SupervisionCost is what a listener and a recording add per call, from runs of
// the same size: relayed plainly, with a listener on each call, recorded.
type SupervisionCost struct {
	// CPUPerListener: the relay's added cores per listening supervisor (their
	// pion client's share, one peer of a direct call, taken off).
	CPUPerListener float64
	// CPUPerRecording: added cores per recorded call.
	CPUPerRecording float64
	// BytesPerMinute: of both directions' files of one recorded call.
	BytesPerMinute float64
	// SupervisedAt70Pct2Cores is how many calls, each with one listener, 70 % of
	// 2 cores hold for the relay alone at these costs.
	SupervisedAt70Pct2Cores int
}

// Supervision compares the runs (direct: the clients' own cost).
func Supervision(plain, listened, recorded, direct Result) SupervisionCost {
	n := float64(plain.Calls)
	perPeer := direct.CPUCores / (2 * n)
	c := SupervisionCost{
		CPUPerListener:  (listened.CPUCores-plain.CPUCores)/n - perPeer,
		CPUPerRecording: (recorded.CPUCores - plain.CPUCores) / n,
	}
	if recorded.Duration > 0 {
		c.BytesPerMinute = float64(recorded.RecordedBytes) / n / recorded.Duration.Minutes()
	}
	if relay := (plain.CPUCores-direct.CPUCores)/n + c.CPUPerListener; relay > 0 {
		c.SupervisedAt70Pct2Cores = int(1.4 / relay)
	}
	return c
}
