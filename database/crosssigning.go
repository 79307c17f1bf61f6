package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	crossSigningColumns     = `user_id, master_key, seeds, created_at`
	getCrossSigningQuery    = `SELECT ` + crossSigningColumns + ` FROM cross_signing_identity WHERE user_id = $1`
	listCrossSigningQuery   = `SELECT ` + crossSigningColumns + ` FROM cross_signing_identity ORDER BY user_id`
	insertCrossSigningQuery = `INSERT INTO cross_signing_identity (` + crossSigningColumns + `) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING`
)

// CrossSigningIdentity is a business identity's cross-signing identity as stored.
type CrossSigningIdentity struct {
	UserID id.UserID
	// MasterKey is the public master key (unpadded base64), what clients pin.
	MasterKey string
	// Seeds are the private keys' seeds, sealed (see internal/seal); never logged.
	Seeds     string
	CreatedAt time.Time
}

func (c *CrossSigningIdentity) Scan(row dbutil.Scannable) (*CrossSigningIdentity, error) {
	var created int64
	if err := row.Scan(&c.UserID, &c.MasterKey, &c.Seeds, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = time.UnixMilli(created)
	return c, nil
}

// CrossSigningQuery keeps the business identities' cross-signing identities.
type CrossSigningQuery struct {
	*dbutil.QueryHelper[*CrossSigningIdentity]
}

func newCrossSigningQuery(db *dbutil.Database) *CrossSigningQuery {
	return &CrossSigningQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*CrossSigningIdentity]) *CrossSigningIdentity {
		return &CrossSigningIdentity{}
	})}
}

// Get returns the identity of a business user, or nil if it has none yet.
func (q *CrossSigningQuery) Get(ctx context.Context, userID id.UserID) (*CrossSigningIdentity, error) {
	c, err := q.QueryOne(ctx, getCrossSigningQuery, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// List returns every stored identity (for the operator's backup).
func (q *CrossSigningQuery) List(ctx context.Context) ([]*CrossSigningIdentity, error) {
	return q.QueryMany(ctx, listCrossSigningQuery)
}

// Create stores an identity unless the user has one already, and returns the one
// stored: with replicas starting at once, the first identity written is everyone's.
func (q *CrossSigningQuery) Create(ctx context.Context, c *CrossSigningIdentity) (*CrossSigningIdentity, error) {
	if err := q.Exec(ctx, insertCrossSigningQuery, c.UserID, c.MasterKey, c.Seeds, c.CreatedAt.UnixMilli()); err != nil {
		return nil, err
	}
	return q.Get(ctx, c.UserID)
}
