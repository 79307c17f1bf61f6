package store

import (
	"context"
	"database/sql"
	"errors"

	"go.mau.fi/util/dbutil"
)

const (
	policyTimesQuery = `SELECT category, policy, updated_at FROM consent_policy WHERE tenant_id = $1 AND subject = $2`
	matrixIDsOfQuery = `SELECT matrix_id FROM customer_link WHERE tenant_id = $1 AND account_id = $2 ORDER BY linked_at DESC, matrix_id`
)

// PolicyTime is a standing choice and when it was made (Unix milliseconds).
type PolicyTime struct {
	Policy string
	At     int64
}

// GetWithTimes returns the customer's policies by category with when each was set.
func (q *PolicyQuery) GetWithTimes(ctx context.Context, tenantID, subject string) (map[string]PolicyTime, error) {
	rows, err := q.db.Query(ctx, policyTimesQuery, tenantID, subject)
	out := map[string]PolicyTime{}
	err = dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (struct{}, error) {
		var category string
		var p PolicyTime
		err := row.Scan(&category, &p.Policy, &p.At)
		out[category] = p
		return struct{}{}, err
	}, err).Iter(func(struct{}) (bool, error) { return true, nil })
	return out, err
}

// MatrixIDsOf lists the Matrix IDs linked to an account, the most recently linked first.
func (q *LinkQuery) MatrixIDsOf(ctx context.Context, tenantID, accountID string) ([]string, error) {
	rows, err := q.db.Query(ctx, matrixIDsOfQuery, tenantID, accountID)
	return dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[string], err).AsList()
}

const visitorSubjectQuery = `SELECT subject FROM visitor_link WHERE tenant_id = $1 AND visitor_hash = $2`

// SubjectOf is the customer who typed a visitor code (by its hash), or "".
func (q *VisitorQuery) SubjectOf(ctx context.Context, tenantID, visitorHash string) (string, error) {
	var subject string
	err := q.db.QueryRow(ctx, visitorSubjectQuery, tenantID, visitorHash).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return subject, err
}
