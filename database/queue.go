package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// queue holds the SQL shared by the inbox and the outbox: both are per-room ordered
// queues of pending rows with a retry time, where a room's head row blocks the rows
// behind it so that order within a room is kept even across failures.
type queue struct {
	db                   *dbutil.Database
	dueRooms, nextDue    string
	markDone, markFailed string
	markDoneMany         *variadicQuery
	giveUp               string
	countPending, prune  string
	anyPending           string
}

func newQueue(db *dbutil.Database, table, key, doneCol string) queue {
	// heads joins each room's first pending row; the partial index on
	// (room_id, key) WHERE done IS NULL serves the grouping.
	heads := fmt.Sprintf(`%[1]s q JOIN (SELECT room_id, MIN(%[2]s) AS head FROM %[1]s WHERE %[3]s IS NULL GROUP BY room_id) h ON q.%[2]s = h.head`, table, key, doneCol)
	return queue{
		db:       db,
		dueRooms: fmt.Sprintf(`SELECT q.room_id FROM %s WHERE q.next_attempt <= $1`, heads),
		nextDue:  fmt.Sprintf(`SELECT COALESCE(MIN(q.next_attempt), 0) FROM %s WHERE q.next_attempt > $1`, heads),
		markDone: fmt.Sprintf(`UPDATE %s SET %s = $2, last_error = NULL WHERE %s = $1`, table, doneCol, key),
		markDoneMany: &variadicQuery{build: func(sb *strings.Builder, n int) {
			fmt.Fprintf(sb, `UPDATE %s SET %s = $1, last_error = NULL WHERE %s IN (`, table, doneCol, key)
			placeholders(sb, n, 2, 1)
			sb.WriteByte(')')
		}},
		markFailed:   fmt.Sprintf(`UPDATE %s SET attempts = attempts + 1, next_attempt = $2, last_error = $3 WHERE %s = $1`, table, key),
		giveUp:       fmt.Sprintf(`UPDATE %s SET attempts = attempts + 1, %s = $2, last_error = $3 WHERE %s = $1`, table, doneCol, key),
		countPending: fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE %s IS NULL`, table, doneCol),
		// In the pending index's order: with EXISTS, the planner may expect a scan of the
		// whole table to meet a pending row early, while they are all at its end.
		anyPending: fmt.Sprintf(`SELECT room_id FROM %s WHERE %s IS NULL ORDER BY room_id, %s LIMIT 1`, table, doneCol, key),
		prune:      fmt.Sprintf(`DELETE FROM %s WHERE %s < $1`, table, doneCol),
	}
}

// DueRooms lists the rooms whose first pending row may be tried now.
func (q *queue) DueRooms(ctx context.Context, now time.Time) ([]id.RoomID, error) {
	rows, err := q.db.Query(ctx, q.dueRooms, now.UnixMilli())
	return dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.RoomID], err).AsList()
}

// NextDue is when the earliest head row waiting for a retry after now may be tried
// (zero if none waits). Rows due already are found by DueRooms.
func (q *queue) NextDue(ctx context.Context, now time.Time) (time.Time, error) {
	var ms int64
	if err := q.db.QueryRow(ctx, q.nextDue, now.UnixMilli()).Scan(&ms); err != nil || ms == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}

// MarkDoneHeld finishes a row, only while lease is held (nil: no lease to check):
// false when it was not. Within a handler's transaction it commits with the handler's
// own writes.
func (q *queue) MarkDoneHeld(ctx context.Context, key int64, now time.Time, lease *LeaseHeld) (bool, error) {
	return execGuarded(ctx, q.db, lease, &leaseGuarded, q.markDone, key, now.UnixMilli())
}

// leaseGuarded caches the lease-guarded forms of statements, by statement.
var leaseGuarded sync.Map

// MarkDoneMany finishes several rows in one statement.
func (q *queue) MarkDoneMany(ctx context.Context, keys []int64, now time.Time) error {
	_, err := q.db.Exec(ctx, q.markDoneMany.query(len(keys)), listArgs([]any{now.UnixMilli()}, keys)...)
	return err
}

// MarkFailed records a failed try and when to try again.
func (q *queue) MarkFailed(ctx context.Context, key int64, retryAt time.Time, cause error) error {
	_, err := q.db.Exec(ctx, q.markFailed, key, retryAt.UnixMilli(), cause.Error())
	return err
}

// GiveUp finishes a row that failed for good, keeping the reason.
func (q *queue) GiveUp(ctx context.Context, key int64, now time.Time, cause error) error {
	_, err := q.db.Exec(ctx, q.giveUp, key, now.UnixMilli(), cause.Error())
	return err
}

// Prune deletes rows done before a time. Done inbox rows are what makes a repeated
// transaction a no-op, so keep them longer than a homeserver retries.
func (q *queue) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, q.prune, before.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CountPending counts rows not yet done.
func (q *queue) CountPending(ctx context.Context) (n int, err error) {
	err = q.db.QueryRow(ctx, q.countPending).Scan(&n)
	return
}

// AnyPending tells whether a row is not yet done (cheaper than counting them, for a
// caller waiting until there is none).
func (q *queue) AnyPending(ctx context.Context) (bool, error) {
	var roomID id.RoomID
	err := q.db.QueryRow(ctx, q.anyPending).Scan(&roomID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
