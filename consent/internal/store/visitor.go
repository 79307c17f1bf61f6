package store

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
)

const linkVisitorQuery = `
	INSERT INTO visitor_link (tenant_id, visitor_hash, subject, linked_at) VALUES ($1, $2, $3, $4)
	ON CONFLICT (tenant_id, visitor_hash) DO NOTHING`

// VisitorQuery ties anonymous visitors' browsing to the customer who typed their code.
type VisitorQuery struct {
	db *dbutil.Database
}

// Link makes a visitor's page views the customer's.
func (q *VisitorQuery) Link(ctx context.Context, tenantID, visitorHash, subject string, at time.Time) error {
	_, err := q.db.Exec(ctx, linkVisitorQuery, tenantID, visitorHash, subject, millis(at))
	return err
}
