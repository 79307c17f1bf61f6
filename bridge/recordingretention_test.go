package bridge

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
)

// TestRecordingRetention: the retention job deletes the finished recordings
// started before voice.recordings.retention, file and row; newer ones, and one
// still being written, stay; a file already gone does not hold its row back.
func TestRecordingRetention(t *testing.T) {
	bed := newInputBed(t)
	b := bed.b
	ctx := context.Background()
	dir := t.TempDir()
	b.Config.Voice.Recordings.Dir, b.Config.Voice.Recordings.Retention = dir, 24*time.Hour
	if err := os.MkdirAll(filepath.Join(dir, "acme"), 0o700); err != nil {
		t.Fatal(err)
	}
	q := b.DB.Recordings()
	now := b.now()
	add := func(name string, age time.Duration, stopped, file bool) int64 {
		t.Helper()
		rel := filepath.Join("acme", name+".ogg")
		if file {
			if err := os.WriteFile(filepath.Join(dir, rel), []byte("OggS"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		recID, err := q.Add(ctx, &database.Recording{TenantID: "acme", Call: 1, Conversation: bed.conv.ID, Direction: "customer",
			Path: rel, StartedAt: now.Add(-age)})
		if err == nil && stopped {
			err = q.Stop(ctx, recID, now.Add(-age).Add(time.Minute), 4, time.Minute, "call_ended")
		}
		if err != nil {
			t.Fatal(err)
		}
		return recID
	}
	old := add("old", 49*time.Hour, true, true)
	gone := add("gone", 25*time.Hour, true, false)
	fresh := add("fresh", 23*time.Hour, true, true)
	running := add("running", 30*time.Hour, false, true)

	b.pruneRetained(ctx, b.Config.Retention)

	// After a crash the running one is settled at start, then retention takes it.
	if err := b.closeInterruptedRecordings(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := q.Get(ctx, "acme", running); err != nil || r == nil || r.StoppedAt.IsZero() || r.StopReason != "interrupted" || r.Bytes != 4 {
		t.Fatalf("interrupted recording: %+v %v", r, err)
	}
	if open, err := q.Unstopped(ctx); err != nil || len(open) != 0 {
		t.Fatalf("still open: %d %v", len(open), err)
	}

	for _, c := range []struct {
		name  string
		recID int64
		kept  bool
	}{{"old", old, false}, {"gone", gone, false}, {"fresh", fresh, true}, {"running", running, true}} {
		r, err := q.Get(ctx, "acme", c.recID)
		if err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(filepath.Join(dir, "acme", c.name+".ogg"))
		if (r != nil) != c.kept || (c.name != "gone" && (statErr == nil) != c.kept) {
			t.Errorf("%s: row kept %v, file kept %v (%v); want kept %v", c.name, r != nil, statErr == nil, statErr, c.kept)
		}
	}
	b.pruneRetained(ctx, b.Config.Retention)
	if r, err := q.Get(ctx, "acme", running); err != nil || r != nil {
		t.Fatalf("the settled recording outlived its retention: %+v %v", r, err)
	}
}
