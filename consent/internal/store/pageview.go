package store

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	insertPageViewQuery = `
		INSERT INTO page_view (tenant_id, account_id, visitor_hash, url, title, at) VALUES ($1, $2, $3, $4, $5, $6)`
	// A customer's pages: their account's and those of every visitor code they typed.
	subjectPagesQuery = `
		SELECT url, title, at FROM page_view
		WHERE tenant_id = $1 AND at >= $4 AND (account_id = $2 OR visitor_hash IN
			(SELECT visitor_hash FROM visitor_link WHERE tenant_id = $1 AND subject = $3))
		ORDER BY at DESC LIMIT $5`
)

// PageView is one page a customer looked at on the tenant's site.
type PageView struct {
	AccountID   string
	VisitorHash string
	URL         string
	Title       string
	At          time.Time
}

func (p *PageView) Scan(row dbutil.Scannable) (*PageView, error) {
	var at int64
	if err := row.Scan(&p.URL, &p.Title, &at); err != nil {
		return nil, err
	}
	p.At = fromMillis(at)
	return p, nil
}

// PageViewQuery stores page views and reads a customer's recent ones.
type PageViewQuery struct {
	*dbutil.QueryHelper[*PageView]
}

func newPageViewQuery(db *dbutil.Database) *PageViewQuery {
	return &PageViewQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*PageView]) *PageView { return &PageView{} })}
}

// Add stores page views.
func (q *PageViewQuery) Add(ctx context.Context, tenantID string, views []PageView) error {
	for _, v := range views {
		if err := q.Exec(ctx, insertPageViewQuery, tenantID, nullText(v.AccountID), nullText(v.VisitorHash), v.URL, v.Title, millis(v.At)); err != nil {
			return err
		}
	}
	return nil
}

// OfSubject returns the newest pages of a customer since a time, newest first.
// accountID may be "" (anonymous: visitor codes only).
func (q *PageViewQuery) OfSubject(ctx context.Context, tenantID, accountID, subject string, since time.Time, limit int) ([]*PageView, error) {
	return q.QueryMany(ctx, subjectPagesQuery, tenantID, sql.NullString{String: accountID, Valid: accountID != ""}, subject, millis(since), limit)
}

const prunePageViewsQuery = `DELETE FROM page_view WHERE at < $1`

// PruneBefore deletes the page views from before a time, and says how many.
func (q *PageViewQuery) PruneBefore(ctx context.Context, before time.Time) (int64, error) {
	return affected(q.GetDB().Exec(ctx, prunePageViewsQuery, millis(before)))
}
