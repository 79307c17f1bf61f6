package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"

	"github.com/contactcenter/contactcenter/database"
)

const (
	// maxOutboxBackoff keeps retries frequent enough that a homeserver back from an
	// outage gets the backlog within seconds.
	maxOutboxBackoff = 15 * time.Second
	// maxOutboxAttempts bounds retries of a send that keeps failing (5xx, network):
	// about ten minutes with the backoff above, as long as the inbox retries an event.
	maxOutboxAttempts = 45
	// maxRefusedAttempts bounds retries of a send the homeserver refuses with another
	// client error (for example an invite racing a membership change).
	maxRefusedAttempts = 5
	// DefaultSendTimeout bounds one send; a stop waits for the send in progress.
	DefaultSendTimeout = 30 * time.Second
)

// TxnID is the Matrix transaction ID of an outbox row: the same on every try, so the
// homeserver deduplicates a resend after a crash instead of doubling the message.
func TxnID(entry *database.OutboxEntry) string { return fmt.Sprintf("cc.out.%d", entry.ID) }

// Refused tells whether the homeserver answered with a client error other than rate
// limiting: retrying the same request is unlikely to help.
func Refused(err error) bool {
	code := statusCode(err)
	return code >= 400 && code < 500 && code != http.StatusTooManyRequests
}

// refusedForGood tells whether a refusal can never turn into success: the sender is
// not allowed in the room (kicked, or left) or the room or event does not exist.
func refusedForGood(err error) bool {
	code := statusCode(err)
	return code == http.StatusForbidden || code == http.StatusNotFound
}

func statusCode(err error) int {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		return httpErr.Response.StatusCode
	}
	return 0
}

// outboxHopeless gives up refused sends: at once when they can never succeed, after a
// few tries otherwise.
func outboxHopeless(err error, attempts int) bool {
	return refusedForGood(err) || Refused(err) && attempts >= maxRefusedAttempts
}

func (t *Transport) newOutboxDrainer() *drainer[*database.OutboxEntry] {
	giveUp := func(ctx context.Context, rowID int64, cause error) error {
		return t.db.Outbox.GiveUp(ctx, rowID, t.now(), cause)
	}
	return &drainer[*database.OutboxEntry]{
		queue: outboxQueue,
		heads: t.db.Outbox.Heads,
		// A turn ends once its sends are recorded: the next turn would read them again,
		// and with replicas the room's lease must still be held when they are.
		finish: func(ctx context.Context, rows []*database.OutboxEntry) {
			ids := make([]int64, len(rows))
			for i, row := range rows {
				ids[i] = row.ID
			}
			_ = t.inFlight.wait(context.WithoutCancel(ctx), ids)
		},
		state: func(e *database.OutboxEntry) rowState {
			return rowState{id: e.ID, key: e.DedupeKey, attempts: e.Attempts, nextAttempt: e.NextAttempt}
		},
		work: t.sendRow,
		// The send has its own deadline; recording it gets as long again.
		timeout: 2 * t.cfg.SendTimeout,
		giveUp: func(ctx context.Context, e *database.OutboxEntry, cause error) error {
			return giveUp(ctx, e.ID, cause)
		},
		plainGiveUp: giveUp,
		markFailed:  t.db.Outbox.MarkFailed,
		retry:       retryPolicy{maxAttempts: maxOutboxAttempts, maxBackoff: maxOutboxBackoff, hopeless: outboxHopeless},
		now:         t.now,
		guard:       &t.guard,
	}
}

// sendRow sends one outbox row and has it recorded sent behind the send: the room goes
// on with its next row while the record is written (with other rooms' records, in one
// transaction), and its turn ends once they are all written. A send, once started, is
// finished and recorded even if the service is stopping: a request cut off on our side
// may still be carried out by the homeserver without it remembering the transaction
// ID, and the resend after the restart would double the message.
func (t *Transport) sendRow(ctx context.Context, entry *database.OutboxEntry) error {
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.SendTimeout)
	defer cancel()
	eventID, err := t.cfg.Send(sendCtx, entry)
	if err != nil {
		return err
	}
	log := zerolog.Ctx(ctx).With().Str("key", entry.DedupeKey).Logger()
	log.Debug().Stringer("event_id", eventID).Msg("Sent")
	t.inFlight.add(entry.ID)
	t.recording.Add(1)
	go func() {
		defer t.recording.Done()
		defer t.inFlight.done(entry.ID)
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.SendTimeout)
		defer cancel()
		err := t.committer.do(recordCtx, &pendingWrite{
			what: "record send", queue: outboxQueue, room: entry.RoomID, sent: &Sent{Entry: entry, EventID: eventID},
		})
		switch {
		case errors.Is(err, ErrLeaseLost):
			log.Warn().Msg("Sent, but another replica took the room before the record; it sends again, deduplicated")
			leaseLost(ctx)
		case err != nil:
			log.Err(err).Msg("Sent, but could not record it; the resend will be deduplicated")
		}
	}()
	return nil
}

// Recorded returns once every send made so far is recorded: a sender that reads what
// earlier sends recorded (the event map, to translate references to earlier copies)
// calls it first.
func (t *Transport) Recorded(ctx context.Context) error { return t.inFlight.wait(ctx, nil) }

// writeSent records sends: the rows marked sent with their event IDs, and the event
// map's copies with them (while lease is held, unless it is nil: checked already, or
// none).
func (t *Transport) writeSent(ctx context.Context, sent []Sent, lease *database.LeaseHeld) error {
	rows := make([]database.Sent, len(sent))
	for i, s := range sent {
		rows[i] = s.row()
	}
	if held, err := t.db.Outbox.MarkSentMany(ctx, rows, t.now(), lease); err != nil {
		return err
	} else if !held {
		return ErrLeaseLost
	}
	return nil
}
