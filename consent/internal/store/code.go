package store

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	insertCodeQuery = `
		INSERT INTO one_time_code (tenant_id, code_hash, kind, account_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`
	// Claiming is one statement, so two customers typing one code cannot both have it.
	claimCodeQuery = `
		UPDATE one_time_code SET used_at = $3, used_by = $4
		WHERE tenant_id = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING kind, account_id`
)

// Code is a one-time code as stored (hashed).
type Code struct {
	TenantID  string
	Hash      string
	Kind      string
	AccountID string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CodeQuery stores and claims one-time codes.
type CodeQuery struct {
	db *dbutil.Database
}

// Add stores a new code.
func (q *CodeQuery) Add(ctx context.Context, c *Code) error {
	_, err := q.db.Exec(ctx, insertCodeQuery, c.TenantID, c.Hash, c.Kind, nullText(c.AccountID), millis(c.CreatedAt), millis(c.ExpiresAt))
	return err
}

// Claim marks an unused, unexpired code used by subject and returns it, or nil when
// there is no such code (unknown, used or expired: the caller cannot tell which, and
// neither can someone guessing codes).
func (q *CodeQuery) Claim(ctx context.Context, tenantID, hash, subject string, at time.Time) (*Code, error) {
	c := &Code{TenantID: tenantID, Hash: hash}
	var account sql.NullString
	err := q.db.QueryRow(ctx, claimCodeQuery, tenantID, hash, millis(at), subject).Scan(&c.Kind, &account)
	if err = noRows(err); err != nil || c.Kind == "" {
		return nil, err
	}
	c.AccountID = account.String
	return c, nil
}

const codeExistsQuery = `
	SELECT EXISTS (SELECT 1 FROM one_time_code WHERE tenant_id = $1 AND code_hash = $2 AND kind = $3 AND expires_at > $4)`

// Exists tells whether a code of that kind was created and has not expired at a
// time, used or not: a visitor code counts for the visitor's page views until then.
func (q *CodeQuery) Exists(ctx context.Context, tenantID, hash, kind string, at time.Time) (bool, error) {
	var exists bool
	err := q.db.QueryRow(ctx, codeExistsQuery, tenantID, hash, kind, millis(at)).Scan(&exists)
	return exists, err
}

// A code is finished once it has expired, or, for a link code, once it is used: the
// link it made is kept in customer_link. A used visitor code still takes page views
// until it expires.
const pruneCodesQuery = `DELETE FROM one_time_code WHERE expires_at <= $1 OR (kind = $2 AND used_at IS NOT NULL)`

// PruneFinished deletes the codes that can do nothing any more at a time, and says
// how many.
func (q *CodeQuery) PruneFinished(ctx context.Context, now time.Time, linkKind string) (int64, error) {
	return affected(q.db.Exec(ctx, pruneCodesQuery, millis(now), linkKind))
}
