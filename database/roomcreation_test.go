package database_test

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// TestRoomCreations: alone, every creation of an earlier run is abandoned and none of
// the current run; with replicas, only those past the grace; a finished creation is
// never listed; Recorded knows the rooms the service uses.
func TestRoomCreations(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		begin := func(token, run string, at time.Time) {
			t.Helper()
			err := db.Creations.Begin(ctx, &database.RoomCreation{Token: token, TenantID: "acme", Purpose: "side", Creator: "@acme:x", Run: run, StartedAt: at})
			if err != nil {
				t.Fatal(err)
			}
		}
		begin("old-run", "run1", now)
		begin("this-run", "run2", now)
		begin("this-run-long-ago", "run2", now.Add(-time.Hour))
		begin("recorded", "run1", now)
		if err := db.Creations.Finish(ctx, "recorded"); err != nil {
			t.Fatal(err)
		}
		tokens := func(onlyProcess bool) map[string]bool {
			t.Helper()
			list, err := db.Creations.Abandoned(ctx, onlyProcess, "run2", now.Add(-time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, c := range list {
				out[c.Token] = true
				if c.Creator != "@acme:x" || c.Purpose != "side" || c.TenantID != "acme" {
					t.Errorf("creation %+v", c)
				}
			}
			return out
		}
		if got := tokens(true); len(got) != 2 || !got["old-run"] || !got["this-run-long-ago"] {
			t.Errorf("alone: abandoned %v", got)
		}
		if got := tokens(false); len(got) != 1 || !got["this-run-long-ago"] {
			t.Errorf("with replicas: abandoned %v", got)
		}

		if err := db.TenantSpace.Put(ctx, &database.TenantSpace{TenantID: "acme", RoomID: "!space:x"}); err != nil {
			t.Fatal(err)
		}
		for room, want := range map[string]bool{"!space:x": true, "!stray:x": false} {
			got, err := db.Creations.Recorded(ctx, id.RoomID(room))
			if err != nil || got != want {
				t.Errorf("Recorded(%s) = %v, %v; want %v", room, got, err, want)
			}
		}
	})
}
