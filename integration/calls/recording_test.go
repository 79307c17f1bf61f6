package calls

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

// TestCallRecordingConsent: at a tenant whose recording setting is ask, a call
// (Alice, a pion peer, to Carol, a pion peer, both talking all along) asks for the
// recording category when it starts. Refused: no row and no file. Given during the
// call: from then on each direction goes to its own file (0600), valid Ogg/Opus
// by opusinfo and by its pages, as long as the recording ran. The next call of the
// conversation is recorded without asking (the choice applies for the
// conversation), and its files last as long as the call within a second.
// Withdrawn mid-call with !privacy: the files stop growing at once.
func TestCallRecordingConsent(t *testing.T) {
	if _, err := exec.LookPath("opusinfo"); err != nil {
		t.Fatal("opusinfo is needed to check the recordings: install Debian's opus-tools (apt-get install opus-tools; .ci/run does)")
	}
	dir := t.TempDir()
	rb := newRelayBed(t, 30*time.Second, func(cfg *config.Config) {
		cfg.Tenants[0].Recording = config.RecordingAsk
		cfg.Voice.Recordings.Dir = dir
	})
	ctx := context.Background()
	db := rb.d.Service.DB
	carol := rb.staff(t, "carol")
	rb.ready(t, carol)
	alice := rb.customer(t)
	conv := rb.conversation(t, alice.room)
	prompts := func() int { return countBodies(alice.Client, alice.room, rb.acme, "**recording** —") }
	calls := 0
	dial := func() *talkingCall {
		t.Helper()
		calls++
		tc := &talkingCall{cust: newRoomPeer(t, alice.Client, alice.room, "alice"), agent: newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")}
		tc.cust.call(t, rb.acme)
		tc.stops = append(tc.stops, keepTalking(tc.cust, opus20ms))
		inv := tc.agent.ringing(t, waitLong)
		if err := tc.agent.Answer(inv); err != nil {
			t.Fatal(err)
		}
		tc.stops = append(tc.stops, keepTalking(tc.agent, opus20ms+voicetest.SourceStride))
		tc.cust.connected(t, waitLong)
		tc.agent.connected(t, waitLong)
		tc.row = lastCall(t, db, conv.ID).ID
		return tc
	}
	hangup := func(tc *talkingCall) *database.Call {
		t.Helper()
		tc.cust.Hangup(voice.ReasonUserHangup)
		tc.agent.ended(t, waitLong)
		for _, stop := range tc.stops {
			stop()
		}
		return rb.endedCall(t, conv.ID, calls)
	}

	// Refused: nothing is written, not even a row.
	tc := dial()
	eventually(t, waitLong, "the recording prompt", func() (bool, error) { return prompts() == 1, nil })
	sayIn(t, alice.Client, alice.room, rb.acme, "none", "recording: not shared")
	time.Sleep(2 * time.Second)
	refused := hangup(tc)
	if rows, err := db.Recordings().OfCall(ctx, refused.ID); err != nil || len(rows) != 0 {
		t.Fatalf("the refused call has recordings %+v (%v)", rows, err)
	}
	if files := recordingFiles(t, dir); len(files) != 0 {
		t.Fatalf("files after a refusal: %v", files)
	}

	// Given during the call: recorded from then on.
	tc = dial()
	eventually(t, waitLong, "the second recording prompt", func() (bool, error) { return prompts() == 2, nil })
	sayIn(t, alice.Client, alice.room, rb.acme, "1", "recording: shared")
	waitSide(t, carol, conv.SideRoom, rb.acme, bot.SideRecording)
	time.Sleep(3 * time.Second)
	given := hangup(tc)
	for _, r := range recordedDirections(t, db, given.ID, "call_ended") {
		got := checkRecording(t, dir, r)
		if ran := r.StoppedAt.Sub(r.StartedAt); absDur(got-ran) > time.Second || got < 2*time.Second {
			t.Errorf("%s: %s of audio, recorded for %s", r.Direction, got, ran)
		}
	}

	// The choice applies to the conversation's next call: no prompt, recorded from
	// the answer to the hangup.
	tc = dial()
	time.Sleep(4 * time.Second)
	whole := hangup(tc)
	if n := prompts(); n != 2 {
		t.Errorf("the next call asked again: %d prompts", n)
	}
	for _, r := range recordedDirections(t, db, whole.ID, "call_ended") {
		got := checkRecording(t, dir, r)
		if call := whole.EndedAt.Sub(whole.AnsweredAt); absDur(got-call) > time.Second {
			t.Errorf("%s: %s of audio for a call of %s", r.Direction, got, call)
		}
	}

	// Withdrawn mid-call: the files stop growing at once.
	tc = dial()
	eventually(t, waitLong, "the third call recorded", func() (bool, error) {
		rows, err := db.Recordings().OfCall(ctx, tc.row)
		return len(rows) == 2, err
	})
	time.Sleep(2 * time.Second)
	sayIn(t, alice.Client, alice.room, rb.acme, "!privacy", "What ACME may see now")
	eventually(t, waitLong, "the privacy prompt with recording", func() (bool, error) { return prompts() == 3, nil })
	sayIn(t, alice.Client, alice.room, rb.acme, "none", "recording: withdrawn")
	rows, err := db.Recordings().OfCall(ctx, tc.row)
	if err != nil || len(rows) != 2 {
		t.Fatalf("recordings of the third call: %+v (%v)", rows, err)
	}
	sizes := map[string]int64{}
	for _, r := range rows {
		sizes[r.Path] = fileSize(t, filepath.Join(dir, r.Path))
	}
	time.Sleep(2 * time.Second)
	for path, size := range sizes {
		if now := fileSize(t, filepath.Join(dir, path)); now != size {
			t.Errorf("%s grew from %d to %d bytes after the withdrawal", path, size, now)
		}
	}
	waitSide(t, carol, conv.SideRoom, rb.acme, bot.SideRecordingStopped)
	withdrawn := hangup(tc)
	for _, r := range recordedDirections(t, db, withdrawn.ID, "withdrawn") {
		got := checkRecording(t, dir, r)
		if call := withdrawn.EndedAt.Sub(withdrawn.AnsweredAt); got < time.Second || got > call-2*time.Second {
			t.Errorf("%s: %s of audio in a call of %s withdrawn 2 s before its end", r.Direction, got, call)
		}
	}
	if files := recordingFiles(t, dir); len(files) != 6 {
		t.Errorf("recording files %v: want a customer and an agent file of each of three calls", files)
	}
}

// talkingCall is a call between two pion peers that talk until it is hung up.
type talkingCall struct {
	cust, agent *roomPeer
	stops       []func()
	row         int64
}

// opus20ms makes test payloads begin with the TOC byte of one 20 ms Opus frame
// (SILK narrowband, mono, code 0): sent every 20 ms, a recording of them plays as
// long as they were sent.
const opus20ms = uint64(0x08) << 56

// keepTalking streams test packets from p at one per 20 ms of wall time, catching up
// after a stall (so that what was sent lasts as long as the call), indexes from
// first on (opus20ms plus a source's base); the returned stop ends it.
func keepTalking(p *roomPeer, first uint64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		start, sent := time.Now(), 0
		for ctx.Err() == nil {
			if due := int(time.Since(start)/packetGap) - sent; due > 0 {
				if p.Stream(ctx, false, first+uint64(sent), due, packetSize, time.Millisecond) != nil {
					return
				}
				sent += due
			}
			select {
			case <-ctx.Done():
			case <-time.After(packetGap):
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// recordedDirections are a call's two recorded directions, stopped for reason.
func recordedDirections(t *testing.T, db *database.Database, callRow int64, reason string) []*database.Recording {
	t.Helper()
	var rows []*database.Recording
	eventually(t, waitLong, "the recordings stopped", func() (ok bool, err error) {
		rows, err = db.Recordings().OfCall(context.Background(), callRow)
		for _, r := range rows {
			if r.StoppedAt.IsZero() {
				return false, err
			}
		}
		return len(rows) > 0, err
	})
	dirs := map[string]bool{}
	for _, r := range rows {
		dirs[r.Direction] = true
		if r.StopReason != reason || r.Bytes == 0 {
			t.Errorf("recording %+v: want stopped for %s, with bytes", r, reason)
		}
	}
	if len(rows) != 2 || !dirs["customer"] || !dirs["agent"] {
		t.Fatalf("call %d's recordings: %+v; want a customer and an agent direction", callRow, rows)
	}
	return rows
}

var playbackLength = regexp.MustCompile(`Playback length: (\d+)m:([0-9.]+)s`)

// checkRecording checks a recorded direction's file (mode 0600, its size
// recorded) with opusinfo and by reading its pages (checksums, granule positions,
// end of stream), and returns how long it plays.
func checkRecording(t *testing.T, dir string, r *database.Recording) time.Duration {
	t.Helper()
	path := filepath.Join(dir, r.Path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != r.Bytes {
		t.Errorf("%s: mode %v, %d bytes (%d recorded); want 0600", r.Path, fi.Mode().Perm(), fi.Size(), r.Bytes)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o, err := voicetest.ReadOggOpus(raw)
	if err != nil {
		t.Fatalf("%s: %v", r.Path, err)
	}
	if !o.EndOfStream || o.Channels != 2 || o.Packets == 0 {
		t.Errorf("%s: %+v; want audio pages ending the stream", r.Path, o)
	}
	out, err := exec.Command("opusinfo", path).CombinedOutput()
	lower := strings.ToLower(string(out))
	m := playbackLength.FindStringSubmatch(string(out))
	if err != nil || strings.Contains(lower, "warning") || strings.Contains(lower, "error") || m == nil {
		t.Fatalf("opusinfo %s: %v\n%s", r.Path, err, out)
	}
	minutes, _ := strconv.Atoi(m[1])
	seconds, _ := strconv.ParseFloat(m[2], 64)
	length := time.Duration(minutes)*time.Minute + time.Duration(seconds*float64(time.Second))
	if absDur(length-o.Duration()) > 20*time.Millisecond {
		t.Errorf("%s: opusinfo says %s, the pages %s", r.Path, length, o.Duration())
	}
	if absDur(r.Duration-o.Duration()) > 100*time.Millisecond {
		t.Errorf("%s: %s recorded as lasting %s", r.Path, o.Duration(), r.Duration)
	}
	t.Logf("%s (%s): %s of audio, %d packets, %d bytes", r.Path, r.StopReason, o.Duration(), o.Packets, fi.Size())
	return o.Duration()
}

func recordingFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// countBodies counts the messages from sender in a room containing text.
func countBodies(c *mxclient.Client, room id.RoomID, sender id.UserID, text string) int {
	n := 0
	for _, evt := range c.Events(room) {
		if msg := evt.Content.AsMessage(); evt.Sender == sender && evt.Type == event.EventMessage && msg != nil && strings.Contains(msg.Body, text) {
			n++
		}
	}
	return n
}
