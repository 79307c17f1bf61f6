package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// A homeserver's transaction is stored on PostgreSQL even while every connection of
// the pool is busy: it does not queue behind the handlers' statements. Inside a
// caller's transaction the insert is part of it.
func TestTransactionStoredWhilePoolBusy(t *testing.T) {
	cfg := dbtest.Config(t, "postgres")
	cfg.MaxOpenConns = 1
	db := dbtest.OpenConfig(t, cfg)
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	event := func(key string) []database.NewInboxEvent {
		return []database.NewInboxEvent{{Key: key, RoomID: id.RoomID("!r:x"), Body: []byte(`{}`)}}
	}

	busy, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- db.DoTxn(ctx, nil, func(ctx context.Context) error {
			close(busy)
			<-release
			return nil
		})
	}()
	<-busy
	stored := make(chan error, 1)
	go func() {
		_, err := db.Inbox.InsertMany(ctx, database.SourceTransaction, event("$urgent"), now)
		stored <- err
	}()
	select {
	case err := <-stored:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("the transaction's events waited for the pool's only connection")
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}

	rollback := errors.New("roll back")
	err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if n, err := db.Inbox.InsertMany(ctx, database.SourceTransaction, event("$inTxn"), now); err != nil || n != 1 {
			t.Fatalf("in a transaction: stored %d, %v", n, err)
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	heads, err := db.Inbox.Heads(ctx, "!r:x", 10)
	if err != nil || len(heads) != 1 || heads[0].Key != "$urgent" {
		t.Fatalf("stored: %+v, %v; want only $urgent (the other was rolled back with its transaction)", heads, err)
	}
}
