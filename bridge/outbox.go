package bridge

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

const (
	// maxOutboxBackoff keeps retries frequent enough that a homeserver back from an
	// outage gets the backlog within seconds.
	maxOutboxBackoff = 15 * time.Second
	// maxRefusedAttempts bounds retries of a send the homeserver refuses outright
	// (for example because the customer left the room).
	maxRefusedAttempts = 5
	// roomParallelism bounds how many rooms are worked on at once per queue; more
	// than the database pool only makes workers wait for connections.
	roomParallelism = 16
	// retention is how long finished inbox and outbox rows are kept. Done inbox rows
	// make repeated transactions no-ops, so this is far longer than any homeserver
	// retries a transaction.
	retention = 7 * 24 * time.Hour
	// sendTimeout bounds one send; a stop waits for the send in progress.
	sendTimeout = 30 * time.Second
)

func (b *Bridge) startQueues(ctx context.Context) error {
	b.outbox = newRoomRunner("outbox", b.DB.Outbox, roomParallelism, b.drainOutbox)
	runners := []*roomRunner{b.outbox}
	if !b.HoldInbox {
		b.inbox = newRoomRunner("inbox", b.DB.Inbox, roomParallelism, b.drainInbox)
		runners = append(runners, b.inbox)
	}
	// Replicas share one PostgreSQL database: each room's queue is drained by one of
	// them at a time. SQLite serves one process, which needs no leases.
	if b.DB.Dialect == dbutil.Postgres {
		holder := b.instanceID()
		b.holder = holder
		for _, r := range runners {
			r.lease = &dbLease{q: b.DB.Leases, queue: r.name, holder: holder, now: b.now}
		}
		b.setupLease = &dbLease{q: b.DB.Leases, queue: "setup", holder: holder, now: b.now}
	}
	for _, r := range runners {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			r.Run(ctx)
		}()
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.pruneLoop(ctx)
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

// pruneLoop deletes finished queue rows older than the retention, hourly.
func (b *Bridge) pruneLoop(ctx context.Context) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		before := b.now().Add(-retention)
		inbox, err1 := b.DB.Inbox.Prune(ctx, before)
		outbox, err2 := b.DB.Outbox.Prune(ctx, before)
		if err := errors.Join(err1, err2); err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not prune finished queue rows")
		} else if inbox+outbox > 0 {
			zerolog.Ctx(ctx).Debug().Int64("inbox", inbox).Int64("outbox", outbox).Msg("Pruned finished queue rows")
		}
		b.pruneRetained(ctx, b.Config.Retention)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// drainOutbox sends a room's queued events in order. The outbox row ID is the Matrix
// transaction ID, so if we crash after sending but before recording, the resend is
// deduplicated by the homeserver instead of doubling the message.
func (b *Bridge) drainOutbox(ctx context.Context, roomID id.RoomID) {
	log := zerolog.Ctx(ctx).With().Stringer("room_id", roomID).Logger()
	for ctx.Err() == nil {
		entry, err := b.DB.Outbox.Head(ctx, roomID)
		if err != nil {
			log.Err(err).Msg("Could not read the outbox")
			return
		}
		if entry == nil || entry.NextAttempt.After(b.now()) {
			return
		}
		client := b.senderClient(entry.Sender)
		if client == nil {
			log.Error().Stringer("sender", entry.Sender).Msg("Outbox entry from an unknown sender; dropped")
			_ = b.DB.Outbox.GiveUp(ctx, entry.ID, b.now(), errors.New("unknown sender"))
			continue
		}
		// A send, once started, is finished and recorded even if the service is
		// stopping: a request cut off on our side may still be carried out by the
		// homeserver without it remembering the transaction ID, and the resend after
		// the restart would double the message.
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		eventID, err := b.send(sendCtx, client, entry)
		if errors.Is(err, errSkip) {
			log.Debug().Str("key", entry.DedupeKey).Msg("Refers to an event never relayed here; skipped")
			_ = b.DB.Outbox.GiveUp(sendCtx, entry.ID, b.now(), err)
			cancel()
			continue
		}
		if err == nil {
			err = b.DB.DoTxn(sendCtx, nil, func(ctx context.Context) error {
				if err := b.DB.Outbox.MarkSent(ctx, entry.ID, eventID, b.now()); err != nil {
					return err
				}
				return b.DB.EventMap.SetCopy(ctx, entry.DedupeKey, eventID)
			})
			cancel()
			if err != nil {
				log.Err(err).Msg("Sent, but could not record it; the resend will be deduplicated")
				return
			}
			log.Debug().Stringer("event_id", eventID).Str("key", entry.DedupeKey).Msg("Sent")
			continue
		}
		cancel()
		entryLog := log.With().Err(err).Str("key", entry.DedupeKey).Int("attempts", entry.Attempts+1).Logger()
		if refused(err) && entry.Attempts+1 >= maxRefusedAttempts {
			entryLog.Error().Msg("Homeserver keeps refusing a send; giving up")
			_ = b.DB.Outbox.GiveUp(ctx, entry.ID, b.now(), err)
			continue
		}
		retryAt := b.now().Add(backoff(entry.Attempts, maxOutboxBackoff))
		entryLog.Warn().Time("retry_at", retryAt).Msg("Send failed; will retry")
		if err = b.DB.Outbox.MarkFailed(ctx, entry.ID, retryAt, err); err != nil {
			log.Err(err).Msg("Could not record the failure")
		}
		return
	}
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
func refused(err error) bool {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		code := httpErr.Response.StatusCode
		return code >= 400 && code < 500 && code != http.StatusTooManyRequests
	}
	return false
}

// leaseTTL is how long a replica's lease on a room lasts without renewal: a replica
// that dies holds its rooms this long.
const leaseTTL = time.Minute

// dbLease is a roomLease in the database.
type dbLease struct {
	q      *database.RoomLeaseQuery
	queue  string
	holder string
	now    func() time.Time
}

func (l *dbLease) Acquire(ctx context.Context, roomID id.RoomID) (bool, error) {
	return l.q.Acquire(ctx, l.queue, roomID, l.holder, l.now(), leaseTTL)
}

func (l *dbLease) Release(ctx context.Context, roomID id.RoomID) {
	if err := l.q.Release(ctx, l.queue, roomID, l.holder); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Stringer("room_id", roomID).Msg("Could not release a room's lease; it expires by itself")
	}
}

// instanceID names this process among replicas (host, pid and a random part).
func (b *Bridge) instanceID() string {
	host, _ := os.Hostname()
	var random [6]byte
	_, _ = rand.Read(random[:])
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), random)
}
