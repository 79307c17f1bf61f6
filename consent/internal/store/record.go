package store

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	insertRecordQuery = `
		INSERT INTO consent_record (receipt_id, tenant_id, subject, category, purpose, decision, method, conversation_id, at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	recordColumns = `receipt_id, tenant_id, subject, category, purpose, decision, method, conversation_id, at, expires_at`
	// The latest record per category in one conversation: a record is current when no
	// later one of the same category exists there.
	conversationStateQuery = `
		SELECT ` + recordColumns + ` FROM consent_record r
		WHERE tenant_id = $1 AND subject = $2 AND conversation_id = $3
		  AND NOT EXISTS (SELECT 1 FROM consent_record later
		                  WHERE later.tenant_id = r.tenant_id AND later.subject = r.subject
		                    AND later.conversation_id = r.conversation_id
		                    AND later.category = r.category AND later.seq > r.seq)`
	subjectRecordsQuery = `SELECT ` + recordColumns + ` FROM consent_record WHERE tenant_id = $1 AND subject = $2 ORDER BY seq`
)

// Record is one consent decision as stored.
type Record struct {
	ReceiptID    string
	TenantID     string
	Subject      string
	Category     string
	Purpose      string
	Decision     string
	Method       string
	Conversation int64
	At           time.Time
	Expires      time.Time
}

func (r *Record) Scan(row dbutil.Scannable) (*Record, error) {
	var conv, expires sql.NullInt64
	var at int64
	err := row.Scan(&r.ReceiptID, &r.TenantID, &r.Subject, &r.Category, &r.Purpose, &r.Decision, &r.Method, &conv, &at, &expires)
	if err != nil {
		return nil, err
	}
	r.Conversation, r.At = conv.Int64, fromMillis(at)
	if expires.Valid {
		r.Expires = fromMillis(expires.Int64)
	}
	return r, nil
}

// RecordQuery appends and reads consent records; there is no update or delete.
type RecordQuery struct {
	*dbutil.QueryHelper[*Record]
}

func newRecordQuery(db *dbutil.Database) *RecordQuery {
	return &RecordQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Record]) *Record { return &Record{} })}
}

// Append stores a record.
func (q *RecordQuery) Append(ctx context.Context, r *Record) error {
	return q.Exec(ctx, insertRecordQuery, r.ReceiptID, r.TenantID, r.Subject, r.Category, r.Purpose,
		r.Decision, r.Method, nullInt(r.Conversation), millis(r.At), nullMillis(r.Expires))
}

// State returns the current record of each category decided in a conversation.
func (q *RecordQuery) State(ctx context.Context, tenantID, subject string, conversation int64) ([]*Record, error) {
	return q.QueryMany(ctx, conversationStateQuery, tenantID, subject, conversation)
}

// OfSubject returns every record of a customer at a tenant, oldest first.
func (q *RecordQuery) OfSubject(ctx context.Context, tenantID, subject string) ([]*Record, error) {
	return q.QueryMany(ctx, subjectRecordsQuery, tenantID, subject)
}
