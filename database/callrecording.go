package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// Recording is one recorded direction of a call (see 16-supervision.sql).
type Recording struct {
	ID           int64
	TenantID     string
	Call         int64
	Conversation int64
	Direction    string // customer, agent
	Path         string // relative to voice.recordings.dir
	StartedAt    time.Time
	StoppedAt    time.Time // zero while recording
	Bytes        int64
	Duration     time.Duration
	StopReason   string
}

const (
	recordingColumns       = `id, tenant_id, call_row, conversation_id, direction, path, started_at, stopped_at, bytes, duration_ms, stop_reason`
	insertRecordingQuery   = `INSERT INTO call_recordings (tenant_id, call_row, conversation_id, direction, path, started_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	stopRecordingQuery     = `UPDATE call_recordings SET stopped_at = $2, bytes = $3, duration_ms = $4, stop_reason = $5 WHERE id = $1 AND stopped_at IS NULL`
	recordingsOfTenant     = `SELECT ` + recordingColumns + ` FROM call_recordings WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	recordingsOfCallQuery  = `SELECT ` + recordingColumns + ` FROM call_recordings WHERE call_row = $1 ORDER BY id`
	recordingByIDQuery     = `SELECT ` + recordingColumns + ` FROM call_recordings WHERE tenant_id = $1 AND id = $2`
	recordingsBeforeQuery  = `SELECT ` + recordingColumns + ` FROM call_recordings WHERE started_at < $1 AND stopped_at IS NOT NULL ORDER BY id LIMIT $2`
	deleteRecordingQuery   = `DELETE FROM call_recordings WHERE id = $1`
	unstoppedRecordingsQry = `SELECT ` + recordingColumns + ` FROM call_recordings WHERE stopped_at IS NULL ORDER BY id`
	recordingsOfConvQuery  = `SELECT ` + recordingColumns + ` FROM call_recordings WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY id`
	// The directions of one recording were started together: same call, same start.
	recordingPairQuery = `SELECT ` + recordingColumns + ` FROM call_recordings r WHERE r.tenant_id = $1 AND r.direction = $3
		AND EXISTS (SELECT 1 FROM call_recordings f WHERE f.id = $2 AND f.tenant_id = r.tenant_id AND f.call_row = r.call_row AND f.started_at = r.started_at)`
)

// RecordingQuery writes and reads the recordings' records.
type RecordingQuery struct {
	db *dbutil.Database
}

// Recordings are the records of call recordings.
func (db *Database) Recordings() *RecordingQuery { return &RecordingQuery{db.Database} }

func scanRecording(row dbutil.Scannable) (*Recording, error) {
	var r Recording
	var started int64
	var stopped sql.NullInt64
	var ms int64
	err := row.Scan(&r.ID, &r.TenantID, &r.Call, &r.Conversation, &r.Direction, &r.Path, &started, &stopped, &r.Bytes, &ms, &r.StopReason)
	if err != nil {
		return nil, err
	}
	r.StartedAt, r.StoppedAt, r.Duration = time.UnixMilli(started), optionalTime(stopped), time.Duration(ms)*time.Millisecond
	return &r, nil
}

func (q *RecordingQuery) list(ctx context.Context, query string, args ...any) ([]*Recording, error) {
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Add records a direction that starts recording and returns its ID.
func (q *RecordingQuery) Add(ctx context.Context, r *Recording) (int64, error) {
	var recID int64
	err := q.db.QueryRow(ctx, insertRecordingQuery, r.TenantID, r.Call, r.Conversation, r.Direction, r.Path, r.StartedAt.UnixMilli()).Scan(&recID)
	return recID, err
}

// Stop records the end of a recorded direction (once).
func (q *RecordingQuery) Stop(ctx context.Context, recID int64, at time.Time, bytes int64, d time.Duration, reason string) error {
	_, err := q.db.Exec(ctx, stopRecordingQuery, recID, at.UnixMilli(), bytes, d.Milliseconds(), reason)
	return err
}

// OfTenant lists a tenant's recordings after ID after, oldest first, at most limit.
func (q *RecordingQuery) OfTenant(ctx context.Context, tenantID string, after int64, limit int) ([]*Recording, error) {
	return q.list(ctx, recordingsOfTenant, tenantID, after, limit)
}

// OfCall lists a call's recorded directions.
func (q *RecordingQuery) OfCall(ctx context.Context, call int64) ([]*Recording, error) {
	return q.list(ctx, recordingsOfCallQuery, call)
}

// OfConversation lists a tenant's recorded directions of one conversation, oldest first.
func (q *RecordingQuery) OfConversation(ctx context.Context, tenantID string, conv int64) ([]*Recording, error) {
	return q.list(ctx, recordingsOfConvQuery, tenantID, conv)
}

// Direction is the given direction of the tenant's recording that row recID
// belongs to (the directions of a recording start together), or nil.
func (q *RecordingQuery) Direction(ctx context.Context, tenantID string, recID int64, direction string) (*Recording, error) {
	r, err := scanRecording(q.db.QueryRow(ctx, recordingPairQuery, tenantID, recID, direction))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// Get is one recording of the tenant, or nil.
func (q *RecordingQuery) Get(ctx context.Context, tenantID string, recID int64) (*Recording, error) {
	r, err := scanRecording(q.db.QueryRow(ctx, recordingByIDQuery, tenantID, recID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// Before lists finished recordings started before t (for retention), at most limit.
func (q *RecordingQuery) Before(ctx context.Context, t time.Time, limit int) ([]*Recording, error) {
	return q.list(ctx, recordingsBeforeQuery, t.UnixMilli(), limit)
}

// Unstopped lists recordings a stop or crash left open.
func (q *RecordingQuery) Unstopped(ctx context.Context) ([]*Recording, error) {
	return q.list(ctx, unstoppedRecordingsQry)
}

// Delete removes a recording's record (its file is removed first by the caller).
func (q *RecordingQuery) Delete(ctx context.Context, recID int64) error {
	_, err := q.db.Exec(ctx, deleteRecordingQuery, recID)
	return err
}
