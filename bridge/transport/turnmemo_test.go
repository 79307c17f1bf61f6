package transport

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// What a handler keeps reaches the handler of the room's next entry in the same turn,
// and only it: an entry that keeps nothing, a failed entry and the turn's end drop it.
func TestKeptForTheNextEntryOfTheTurnOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		keeps := map[string]string{"$keeps": "read for $keeps", "$fails": "read for $fails", "$after-failure": "read for $after-failure"}
		var mu sync.Mutex
		reused := map[string]any{}
		handle := func(ctx context.Context, j *Job) error {
			mu.Lock()
			reused[j.Key()] = j.Reused()
			mu.Unlock()
			if v, ok := keeps[j.Key()]; ok {
				j.KeepForNext(v)
			}
			if j.Key() == "$fails" {
				return Permanent(errors.New("cannot be handled"))
			}
			return nil
		}
		seen := func(key string) bool {
			mu.Lock()
			defer mu.Unlock()
			_, ok := reused[key]
			return ok
		}
		// Filed before the transport runs: one turn takes them all.
		for _, key := range []string{"$keeps", "$reads", "$after-nothing", "$fails", "$after-failure"} {
			fileEvent(t, db, key)
		}
		tr := run(t, Config{DB: db, Handle: handle, Send: noSend})
		tr.WakeInbox()
		eventually(t, "the first turn", func() bool { return seen("$after-failure") })
		fileEvent(t, db, "$next-turn")
		tr.WakeInbox()
		eventually(t, "the next turn", func() bool { return seen("$next-turn") })

		mu.Lock()
		defer mu.Unlock()
		want := map[string]any{
			"$keeps": nil, "$reads": "read for $keeps", "$after-nothing": nil,
			"$fails": nil, "$after-failure": nil, "$next-turn": nil,
		}
		for key, w := range want {
			if reused[key] != w {
				t.Errorf("%s reused %v, want %v", key, reused[key], w)
			}
		}
	})
}
