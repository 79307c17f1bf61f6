package database

import (
	"context"
	"time"
)

// The inbox's and outbox's pending rows, for the service's health metrics. Both
// counts read the partial indexes of pending rows (inbox_pending_idx,
// outbox_pending_idx), so they cost the backlog, not the tables' history.
const backlogQuery = `
	SELECT (SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL),
		(SELECT COALESCE(MIN(received_at), 0) FROM inbox WHERE handled_at IS NULL),
		(SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL),
		(SELECT COALESCE(MIN(created_at), 0) FROM outbox WHERE sent_at IS NULL)`

// Backlog is what the inbox and the outbox hold not done yet.
type Backlog struct {
	InboxDepth, OutboxDepth int
	// The oldest pending row's arrival (zero when none is pending).
	InboxOldest, OutboxOldest time.Time
}

// Backlog reads the inbox's and outbox's pending rows.
func (db *Database) Backlog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var inboxOldest, outboxOldest int64
	err := db.QueryRow(ctx, backlogQuery).Scan(&b.InboxDepth, &inboxOldest, &b.OutboxDepth, &outboxOldest)
	if inboxOldest > 0 {
		b.InboxOldest = time.UnixMilli(inboxOldest)
	}
	if outboxOldest > 0 {
		b.OutboxOldest = time.UnixMilli(outboxOldest)
	}
	return b, err
}
