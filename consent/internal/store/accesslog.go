package store

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	insertAccessQuery = `
		INSERT INTO access_log (tenant_id, subject, category, reader, conversation_id, granted, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	subjectAccessQuery = `
		SELECT tenant_id, subject, category, reader, conversation_id, granted, at FROM access_log
		WHERE tenant_id = $1 AND subject = $2 ORDER BY seq`
)

// Access is one entry of the access log.
type Access struct {
	TenantID     string
	Subject      string
	Category     string
	Reader       string
	Conversation int64
	Granted      bool
	At           time.Time
}

func (a *Access) Scan(row dbutil.Scannable) (*Access, error) {
	var conv sql.NullInt64
	var at int64
	if err := row.Scan(&a.TenantID, &a.Subject, &a.Category, &a.Reader, &conv, &a.Granted, &at); err != nil {
		return nil, err
	}
	a.Conversation, a.At = conv.Int64, fromMillis(at)
	return a, nil
}

// AccessLogQuery writes and lists the access log.
type AccessLogQuery struct {
	*dbutil.QueryHelper[*Access]
}

func newAccessLogQuery(db *dbutil.Database) *AccessLogQuery {
	return &AccessLogQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Access]) *Access { return &Access{} })}
}

// Add writes an entry.
func (q *AccessLogQuery) Add(ctx context.Context, a *Access) error {
	return q.Exec(ctx, insertAccessQuery, a.TenantID, a.Subject, a.Category, a.Reader, nullInt(a.Conversation), a.Granted, millis(a.At))
}

// OfSubject lists the entries about one customer, oldest first.
func (q *AccessLogQuery) OfSubject(ctx context.Context, tenantID, subject string) ([]*Access, error) {
	return q.QueryMany(ctx, subjectAccessQuery, tenantID, subject)
}

const pruneAccessLogQuery = `DELETE FROM access_log WHERE at < $1`

// PruneBefore deletes the entries from before a time, and says how many.
func (q *AccessLogQuery) PruneBefore(ctx context.Context, before time.Time) (int64, error) {
	return affected(q.GetDB().Exec(ctx, pruneAccessLogQuery, millis(before)))
}
