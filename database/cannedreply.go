package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	cannedReplyColumns     = `tenant_id, name, body, updated_at`
	cannedRepliesOfQuery   = `SELECT ` + cannedReplyColumns + ` FROM canned_reply WHERE tenant_id = $1 ORDER BY name`
	cannedReplyQuery       = `SELECT ` + cannedReplyColumns + ` FROM canned_reply WHERE tenant_id = $1 AND name = $2`
	upsertCannedReplyQuery = `
		INSERT INTO canned_reply (tenant_id, name, body, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`
	deleteCannedReplyQuery = `DELETE FROM canned_reply WHERE tenant_id = $1 AND name = $2`
)

// CannedReply is a canned reply a tenant set through the admin API.
type CannedReply struct {
	TenantID  string
	Name      string
	Text      string
	UpdatedAt time.Time
}

func (r *CannedReply) Scan(row dbutil.Scannable) (*CannedReply, error) {
	var updated int64
	if err := row.Scan(&r.TenantID, &r.Name, &r.Text, &updated); err != nil {
		return nil, err
	}
	r.UpdatedAt = time.UnixMilli(updated)
	return r, nil
}

// CannedReplyQuery keeps the canned replies set through the admin API.
type CannedReplyQuery struct {
	*dbutil.QueryHelper[*CannedReply]
}

// CannedReplies are the canned replies set through the admin API.
func (db *Database) CannedReplies() *CannedReplyQuery {
	return &CannedReplyQuery{dbutil.MakeQueryHelper(db.Database, func(*dbutil.QueryHelper[*CannedReply]) *CannedReply { return &CannedReply{} })}
}

// OfTenant lists a tenant's stored replies by name.
func (q *CannedReplyQuery) OfTenant(ctx context.Context, tenantID string) ([]*CannedReply, error) {
	return q.QueryMany(ctx, cannedRepliesOfQuery, tenantID)
}

// Get returns one stored reply, or nil.
func (q *CannedReplyQuery) Get(ctx context.Context, tenantID, name string) (*CannedReply, error) {
	return q.QueryOne(ctx, cannedReplyQuery, tenantID, name)
}

// Put stores a reply, replacing one of the same name; created tells which.
func (q *CannedReplyQuery) Put(ctx context.Context, r *CannedReply) (created bool, err error) {
	err = q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		old, err := q.Get(ctx, r.TenantID, r.Name)
		if err != nil {
			return err
		}
		created = old == nil
		return q.Exec(ctx, upsertCannedReplyQuery, r.TenantID, r.Name, r.Text, r.UpdatedAt.UnixMilli())
	})
	return created, err
}

// Delete removes a stored reply; false if there was none.
func (q *CannedReplyQuery) Delete(ctx context.Context, tenantID, name string) (bool, error) {
	res, err := q.GetDB().Exec(ctx, deleteCannedReplyQuery, tenantID, name)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
