package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	linkQuery = `
		INSERT INTO customer_link (tenant_id, matrix_id, account_id, via, linked_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, matrix_id) DO UPDATE SET account_id = excluded.account_id, via = excluded.via, linked_at = excluded.linked_at`
	unlinkOthersQuery = `DELETE FROM customer_link WHERE tenant_id = $1 AND account_id = $2 AND via = 'api'`
	accountOfQuery    = `SELECT account_id FROM customer_link WHERE tenant_id = $1 AND matrix_id = $2`
)

// Ways a Matrix ID gets linked to an account.
const (
	ViaAPI  = "api"
	ViaCode = "code"
)

// LinkQuery keeps which Matrix IDs belong to which account.
type LinkQuery struct {
	db *dbutil.Database
}

// ReplaceAPILinks makes matrixIDs the account's links set by the tenant; links the
// customer proved with a code stay.
func (q *LinkQuery) ReplaceAPILinks(ctx context.Context, tenantID, accountID string, matrixIDs []string, at time.Time) error {
	if _, err := q.db.Exec(ctx, unlinkOthersQuery, tenantID, accountID); err != nil {
		return err
	}
	for _, mxid := range matrixIDs {
		if err := q.Link(ctx, tenantID, mxid, accountID, ViaAPI, at); err != nil {
			return err
		}
	}
	return nil
}

// Link ties a Matrix ID to an account.
func (q *LinkQuery) Link(ctx context.Context, tenantID, matrixID, accountID, via string, at time.Time) error {
	_, err := q.db.Exec(ctx, linkQuery, tenantID, matrixID, accountID, via, millis(at))
	return err
}

// AccountOf returns the account a Matrix ID is linked to, or "".
func (q *LinkQuery) AccountOf(ctx context.Context, tenantID, matrixID string) (string, error) {
	var accountID string
	err := q.db.QueryRow(ctx, accountOfQuery, tenantID, matrixID).Scan(&accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return accountID, err
}
