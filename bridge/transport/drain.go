package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// rowState is what the drain loop needs to know of a queue's head row.
type rowState struct {
	id          int64
	key         string
	attempts    int
	nextAttempt time.Time
}

// retryPolicy says how long a failing row is retried before it is given up.
type retryPolicy struct {
	maxAttempts int
	maxBackoff  time.Duration
	// hopeless, when set, tells of a failure after `attempts` tries that retrying
	// cannot help even though it is not marked permanent (a refused request).
	hopeless func(err error, attempts int) bool
}

// drainer is the one drain loop of both queues: it works on a room's head rows in
// order, retries a failing row with backoff (the row blocks its room meanwhile) and
// gives it up, keeping the reason, once retrying cannot help.
type drainer[R any] struct {
	queue string
	// heads returns up to limit of the room's first pending rows, in order.
	heads func(ctx context.Context, roomID id.RoomID, limit int) ([]R, error)
	state func(R) rowState
	work  func(ctx context.Context, row R) error
	// finish, when set, ends a turn that worked on rows.
	finish func(ctx context.Context, rows []R)
	// timeout bounds one row's work; running out of it is a failure like another.
	timeout time.Duration
	giveUp  func(ctx context.Context, row R, cause error) error
	// plainGiveUp finishes a row without giveUp's extra writes, when those fail.
	plainGiveUp func(ctx context.Context, rowID int64, cause error) error
	markFailed  func(ctx context.Context, rowID int64, retryAt time.Time, cause error) error
	retry       retryPolicy
	now         func() time.Time
	guard       *panicGuard
}

// turnRows is how many rows a room works on before it lets the rooms waiting for a
// worker go first; it also bounds the rows read at once.
const turnRows = 8

// drain works on a room's due rows in order, for one turn: true when the turn ended
// with rows possibly left.
func (d *drainer[R]) drain(ctx context.Context, roomID id.RoomID) bool {
	log := zerolog.Ctx(ctx).With().Stringer("room_id", roomID).Logger()
	ctx = withTurnMemo(log.WithContext(ctx))
	rows, err := d.heads(ctx, roomID, turnRows)
	if err != nil {
		if ctx.Err() == nil {
			log.Err(err).Str("queue", d.queue).Msg("Could not read the queue")
		}
		return false
	}
	if d.finish != nil && len(rows) > 0 {
		defer d.finish(ctx, rows)
	}
	for _, row := range rows {
		if ctx.Err() != nil {
			return false
		}
		st := d.state(row)
		if st.nextAttempt.After(d.now()) {
			return false
		}
		if err = d.do(ctx, row); err != nil && !d.failed(ctx, row, st, err) {
			return false
		}
	}
	return len(rows) == turnRows
}

// do works on one row within the drainer's deadline.
func (d *drainer[R]) do(ctx context.Context, row R) error {
	workCtx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	err := d.guard.call(workCtx, d.queue, func() error { return d.work(workCtx, row) })
	if err != nil && ctx.Err() == nil && errors.Is(workCtx.Err(), context.DeadlineExceeded) && !errors.Is(err, ErrPermanent) {
		err = fmt.Errorf("%w (%s): %w", ErrTimedOut, d.timeout, err)
	}
	return err
}

// failed records a failed row; true when the row is finished and the room may go on.
func (d *drainer[R]) failed(ctx context.Context, row R, st rowState, err error) bool {
	log := zerolog.Ctx(ctx).With().Str("queue", d.queue).Str("key", st.key).Int("attempts", st.attempts+1).Logger()
	switch {
	case errors.Is(err, ErrLeaseLost):
		log.Warn().Msg("Another replica took the room; leaving the row to it")
		leaseLost(ctx)
		return false
	case ctx.Err() != nil && !errors.Is(err, ErrPermanent):
		// Stopping: the row stays as it is for the next try.
		log.Debug().Err(err).Msg("Row left for the next try")
		return false
	case errors.Is(err, ErrNothingToSend):
		log.Debug().Err(err).Msg("Nothing left to do; finished")
		d.finishFailed(ctx, row, st, err)
		return true
	case errors.Is(err, ErrPermanent), st.attempts+1 >= d.retry.maxAttempts,
		d.retry.hopeless != nil && d.retry.hopeless(err, st.attempts+1):
		log.Error().Err(err).Msg("Giving up on a row")
		return d.finishFailed(ctx, row, st, err)
	}
	retryAt := d.now().Add(backoff(st.attempts, d.retry.maxBackoff))
	log.Warn().Err(err).Time("retry_at", retryAt).Msg("Failed; will retry")
	if err = d.markFailed(ctx, st.id, retryAt, err); err != nil {
		log.Err(err).Msg("Could not record the failure")
	}
	return false
}

// finishFailed gives a row up with its reason. If the queue's extra give-up writes
// panic, the row is given up without them: a row that can never be finished would
// block its room for good. Other failures leave the row for the next poll.
func (d *drainer[R]) finishFailed(ctx context.Context, row R, st rowState, cause error) bool {
	log := zerolog.Ctx(ctx).With().Str("queue", d.queue).Str("key", st.key).Logger()
	err := d.guard.call(ctx, d.queue+" give-up", func() error { return d.giveUp(ctx, row, cause) })
	if errors.Is(err, ErrPanicked) {
		log.Error().Err(err).Msg("Giving up without the give-up writes")
		err = d.plainGiveUp(ctx, st.id, cause)
	}
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrLeaseLost) {
			log.Err(err).Msg("Could not record giving up")
		}
		return false
	}
	return true
}
