package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// SupervisionEntry is one change of a supervisor's part in a call (see
// 16-supervision.sql).
type SupervisionEntry struct {
	ID           int64
	TenantID     string
	Call         int64
	Conversation int64
	Staff        id.UserID // whose part changed
	Mode         string    // listen, whisper, barge, left, transfer, invite
	By           id.UserID // who asked, when not Staff themselves
	At           time.Time
}

const (
	insertSupervisionQuery = `
		INSERT INTO call_supervision (tenant_id, call_row, conversation_id, staff, mode, by_staff, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	supervisionOfCallQuery = `
		SELECT id, tenant_id, call_row, conversation_id, staff, mode, by_staff, at FROM call_supervision
		WHERE call_row = $1 ORDER BY id`
)

// SupervisionQuery writes and reads the audit of supervision.
type SupervisionQuery struct {
	db *dbutil.Database
}

// Supervision is the audit of supervisors' parts in calls.
func (db *Database) Supervision() *SupervisionQuery { return &SupervisionQuery{db.Database} }

// Add appends an audit row.
func (q *SupervisionQuery) Add(ctx context.Context, e *SupervisionEntry) error {
	_, err := q.db.Exec(ctx, insertSupervisionQuery, e.TenantID, e.Call, e.Conversation, e.Staff, e.Mode, e.By, e.At.UnixMilli())
	return err
}

// OfCall lists a call's audit rows in order.
func (q *SupervisionQuery) OfCall(ctx context.Context, call int64) ([]*SupervisionEntry, error) {
	rows, err := q.db.Query(ctx, supervisionOfCallQuery, call)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*SupervisionEntry
	for rows.Next() {
		var e SupervisionEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Call, &e.Conversation, &e.Staff, &e.Mode, &e.By, &at); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at)
		out = append(out, &e)
	}
	return out, rows.Err()
}
