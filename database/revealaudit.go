package database

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	revealColumns     = `id, tenant_id, requested_by, subject, reason, customer_mxid, conversation_id, outcome, requested_at`
	insertRevealQuery = `
		INSERT INTO reveal_audit (tenant_id, requested_by, subject, reason, customer_mxid, conversation_id, outcome, requested_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id`
	revealsOfTenantQuery = `SELECT ` + revealColumns + ` FROM reveal_audit WHERE tenant_id = $1 ORDER BY id`
)

// Outcomes of a reveal.
const (
	RevealFound    = "revealed"
	RevealNotFound = "not_found"
)

// Reveal is one audited reveal of the Matrix ID behind a pseudonym.
type Reveal struct {
	ID       int64
	TenantID string
	// RequestedBy is the provider key's label.
	RequestedBy string
	// Subject is what was asked about: a pseudonym, a ghost user ID or a conversation.
	Subject        string
	Reason         string
	Customer       string
	ConversationID int64
	Outcome        string
	RequestedAt    time.Time
}

func (r *Reveal) Scan(row dbutil.Scannable) (*Reveal, error) {
	var customer sql.NullString
	var conversation sql.NullInt64
	var at int64
	err := row.Scan(&r.ID, &r.TenantID, &r.RequestedBy, &r.Subject, &r.Reason, &customer, &conversation, &r.Outcome, &at)
	if err != nil {
		return nil, err
	}
	r.Customer, r.ConversationID, r.RequestedAt = customer.String, conversation.Int64, time.UnixMilli(at)
	return r, nil
}

// RevealAuditQuery keeps the reveal audit: rows are added, never changed.
type RevealAuditQuery struct {
	*dbutil.QueryHelper[*Reveal]
}

func newRevealAuditQuery(db *dbutil.Database) *RevealAuditQuery {
	return &RevealAuditQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Reveal]) *Reveal { return &Reveal{} })}
}

// Add writes an audit row and sets its ID.
func (q *RevealAuditQuery) Add(ctx context.Context, r *Reveal) error {
	return q.GetDB().QueryRow(ctx, insertRevealQuery, r.TenantID, r.RequestedBy, r.Subject, r.Reason, textOrNull(r.Customer),
		sql.NullInt64{Int64: r.ConversationID, Valid: r.ConversationID != 0}, r.Outcome, r.RequestedAt.UnixMilli()).Scan(&r.ID)
}

// OfTenant lists a tenant's reveals, oldest first.
func (q *RevealAuditQuery) OfTenant(ctx context.Context, tenantID string) ([]*Reveal, error) {
	return q.QueryMany(ctx, revealsOfTenantQuery, tenantID)
}
