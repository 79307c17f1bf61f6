package bridge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
)

// Recording of calls, only with the customer's consent. A tenant's recording
// setting says how consent is had: ask (the recording category is asked when the
// call starts; a remembered choice applies) or notice (the customer is told, and
// the call is recorded unless they refuse). Each direction goes to its own Ogg/Opus
// file under voice.recordings.dir (0600), written by the relay as the packets come.
// A refusal or withdrawal stops it before the next packet.

// recordingOnStart asks for or announces recording when a call starts (the call's
// actor).
func (m *callManager) recordingOnStart(lc *liveCall) {
	b, t := m.b, lc.t
	mode := t.RecordingMode()
	if mode == config.RecordingOff {
		return
	}
	err := b.doTxn(m.ctx, func(ctx context.Context) error {
		conv, err := b.DB.Conversation.Get(ctx, lc.convID)
		if err != nil || conv == nil {
			return err
		}
		c := t.convo(conv, nil)
		if mode == config.RecordingNotice {
			return c.enqueue(ctx, outboxKey("call-recording-notice", lc.rowID), lc.customerRoom, t.UserID,
				event.EventMessage, bot.Notice(bot.CallRecordingNotice))
		}
		s := c.subject()
		state, err := b.Consent.State(ctx, s, conv.ID)
		if err != nil {
			return err
		}
		if d, ok := state[consent.Recording]; ok && d == consent.Given {
			return nil
		}
		policies, err := b.Consent.Policies(ctx, s)
		if err != nil {
			return err
		}
		switch policies[consent.Recording] {
		case consent.Always, consent.Never:
			change := consent.Change{Category: consent.Recording, Grant: policies[consent.Recording] == consent.Always}
			records, err := b.Consent.Decide(ctx, s, conv.ID, consent.MethodPolicy, t.purposeMap(), []consent.Change{change}, false)
			if err != nil {
				return err
			}
			return c.afterDecisions(ctx, records)
		}
		for _, p := range t.Purposes() {
			if p.Category == consent.Recording {
				return c.askConsent(ctx, []consent.Purpose{p})
			}
		}
		return nil
	})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not ask for the call's recording consent")
	}
	b.outbox.Wake()
}

// recordingPurposes is the recording category when the tenant records calls, so
// that !privacy gives or withdraws it with the others (it is asked on its own when
// a call starts, never when a conversation opens).
func (t *Tenant) recordingPurposes() []consent.Purpose {
	if t.RecordingMode() == config.RecordingOff {
		return nil
	}
	for _, p := range t.Purposes() {
		if p.Category == consent.Recording {
			return []consent.Purpose{p}
		}
	}
	return nil
}

// recordingAllowed tells whether the customer's consent allows recording the call now.
func (m *callManager) recordingAllowed(ctx context.Context, lc *liveCall) (bool, error) {
	b, t := m.b, lc.t
	mode := t.RecordingMode()
	if mode == config.RecordingOff || b.Config.Voice.Recordings.Dir == "" {
		return false, nil
	}
	s := subjectOf(t, lc.customerUser)
	state, err := b.Consent.State(ctx, s, lc.convID)
	if err != nil {
		return false, err
	}
	d, decided := state[consent.Recording]
	if mode == config.RecordingAsk {
		return decided && d == consent.Given, nil
	}
	if decided && d != consent.Given {
		return false, nil
	}
	policies, err := b.Consent.Policies(ctx, s)
	return err == nil && policies[consent.Recording] != consent.Never, err
}

// recordingOnEvent starts the recording when an agent is bridged and consent
// allows, and records its end with the call's.
func (m *callManager) recordingOnEvent(lc *liveCall, ev voice.Event) {
	switch ev.Kind {
	case voice.EventAnswered:
		m.syncRecording(lc)
	case voice.EventCallEnded:
		m.finishRecording(lc, "call_ended")
	}
}

// recordingDecided follows the customer's recording decisions: a refusal or
// withdrawal stops a running recording at once (before the decision commits:
// stopping never needs consent); a grant starts it once committed.
func (b *Bridge) recordingDecided(ctx context.Context, conv *database.Conversation, records []consent.Record) {
	lc := b.calls.liveCallOf(conv)
	if lc == nil {
		return
	}
	for _, r := range records {
		if r.Category != consent.Recording {
			continue
		}
		if r.Decision != consent.Given {
			lc.call.StopRecording()
			lc.push(func() { b.calls.finishRecording(lc, "withdrawn") })
			continue
		}
		b.afterCommit(ctx, func(context.Context) { lc.push(func() { b.calls.syncRecording(lc) }) })
	}
}

// liveRecording is a call's recording in progress (owned by the call's actor).
type liveRecording struct {
	ids   [2]int64
	paths [2]string
}

// syncRecording starts the call's recording if consent allows and none runs.
func (m *callManager) syncRecording(lc *liveCall) {
	if lc.call.Recording() || lc.call.State() != voice.CallAnswered {
		return
	}
	ok, err := m.recordingAllowed(m.ctx, lc)
	if err != nil || !ok {
		if err != nil {
			m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not read the recording consent")
		}
		return
	}
	if err := m.startRecording(lc); err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not start recording")
	}
}

func (m *callManager) startRecording(lc *liveCall) error {
	b := m.b
	root := b.Config.Voice.Recordings.Dir
	if err := os.MkdirAll(filepath.Join(root, lc.t.ID), 0o700); err != nil {
		return err
	}
	now := b.now()
	rec := &liveRecording{}
	var files [2]*os.File
	for i, dir := range []string{"customer", "agent"} {
		rel := filepath.Join(lc.t.ID, fmt.Sprintf("call%d-%s-%d.ogg", lc.rowID, dir, now.UnixNano()))
		f, err := os.OpenFile(filepath.Join(root, rel), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			for _, f := range files[:i] {
				_ = f.Close()
			}
			return err
		}
		files[i] = f
		rec.paths[i] = rel
		rec.ids[i], err = b.DB.Recordings().Add(m.ctx, &database.Recording{TenantID: lc.t.ID, Call: lc.rowID,
			Conversation: lc.convID, Direction: dir, Path: rel, StartedAt: now})
		if err != nil {
			return err
		}
	}
	if err := lc.call.StartRecording(voice.RecordingSinks{Customer: files[0], Agent: files[1]}); err != nil {
		_ = files[0].Close()
		_ = files[1].Close()
		return err
	}
	m.recordings.Store(lc, rec)
	m.sideNotice(lc, "recording-on", bot.SideRecording)
	m.log.Info().Int64("call", lc.rowID).Msg("Recording the call")
	return nil
}

// finishRecording stops the call's recording (if it still runs) and records its end.
func (m *callManager) finishRecording(lc *liveCall, reason string) {
	v, ok := m.recordings.LoadAndDelete(lc)
	if !ok {
		return
	}
	rec := v.(*liveRecording)
	lc.call.StopRecording()
	st := lc.call.LastRecording()
	now := m.b.now()
	for i, d := range []voice.DirectionStats{st.Customer, st.Agent} {
		var size int64
		if fi, err := os.Stat(filepath.Join(m.b.Config.Voice.Recordings.Dir, rec.paths[i])); err == nil {
			size = fi.Size()
		}
		dur := time.Duration(d.Samples) * time.Second / 48000
		if err := m.b.DB.Recordings().Stop(m.ctx, rec.ids[i], now, size, dur, reason); err != nil {
			m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not record the end of a recording")
		}
	}
	if reason != "call_ended" {
		m.sideNotice(lc, "recording-off", bot.SideRecordingStopped)
	}
	m.log.Info().Int64("call", lc.rowID).Str("reason", reason).Msg("Recording stopped")
}
