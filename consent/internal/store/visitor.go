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

// A visitor link is worth keeping while its code can still take page views or page
// views by it remain.
const pruneVisitorLinksQuery = `
	DELETE FROM visitor_link WHERE
		NOT EXISTS (SELECT 1 FROM one_time_code c WHERE c.tenant_id = visitor_link.tenant_id AND c.code_hash = visitor_link.visitor_hash)
		AND NOT EXISTS (SELECT 1 FROM page_view p WHERE p.tenant_id = visitor_link.tenant_id AND p.visitor_hash = visitor_link.visitor_hash)`

// PruneUnused deletes the links of visitors whose code is gone and whose page views
// are gone, and says how many.
func (q *VisitorQuery) PruneUnused(ctx context.Context) (int64, error) {
	return affected(q.db.Exec(ctx, pruneVisitorLinksQuery))
}
