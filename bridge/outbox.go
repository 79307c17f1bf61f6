package bridge

import (
	"context"
	"errors"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge/transport"
	"github.com/contactcenter/contactcenter/database"
)

// retentionInterval is how often what is past its retention is deleted.
const retentionInterval = time.Hour

func (b *Bridge) startQueues(ctx context.Context) error {
	t := b.queues()
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		t.Run(ctx)
	}()
	go func() {
		defer b.wg.Done()
		b.retentionLoop(ctx)
	}()
	if !b.HoldInbox {
		b.wg.Add(2)
		go func() {
			defer b.wg.Done()
			b.expirePrompts(ctx)
		}()
		go func() {
			defer b.wg.Done()
			b.routeLoop(ctx)
		}()
	}
	if b.Config.Homeserver.SyncRedactions && !b.HoldInbox {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.watchDeskRedactions(ctx)
		}()
	}
	return nil
}

// retentionLoop deletes what is past its retention, hourly (the transport prunes its
// own finished queue rows).
func (b *Bridge) retentionLoop(ctx context.Context) {
	ticker := time.NewTicker(retentionInterval)
	defer ticker.Stop()
	for {
		b.pruneRetained(ctx, b.Config.Retention)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// sendOutbox is the transport's sender: it performs one outbox row as the user it is
// queued for.
func (b *Bridge) sendOutbox(ctx context.Context, entry *database.OutboxEntry) (id.EventID, error) {
	client := b.senderClient(entry.Sender)
	if client == nil {
		return "", transport.Permanent(errors.New("outbox row from an unknown sender"))
	}
	return b.send(ctx, client, entry)
}

// recordCopy notes, with the sent mark, the event ID of a sent copy of a relayed event.
func (b *Bridge) recordCopy(ctx context.Context, entry *database.OutboxEntry, eventID id.EventID) error {
	return b.DB.EventMap.SetCopy(ctx, entry.DedupeKey, eventID)
}

// senderClient is the client that sends as one of our users.
func (b *Bridge) senderClient(sender id.UserID) *mautrix.Client {
	if t := b.tenants[sender]; t != nil {
		return t.Client
	}
	if b.isOurs(sender) {
		return b.AS.Intent(sender).Client
	}
	return nil
}

// refused tells whether the homeserver answered with a client error other than rate
// limiting: retrying the same request is unlikely to help.
func refused(err error) bool { return transport.Refused(err) }

// outboxKey builds an outbox dedupe key (see transport.Key).
func outboxKey(kind string, parts ...any) string { return transport.Key(kind, parts...) }
