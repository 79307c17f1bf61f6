package store

import (
	"context"

	"go.mau.fi/util/dbutil"
)

const (
	getPoliciesQuery = `SELECT category, policy FROM consent_policy WHERE tenant_id = $1 AND subject = $2`
	setPolicyQuery   = `
		INSERT INTO consent_policy (tenant_id, subject, category, policy, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, subject, category) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`
)

// PolicyQuery keeps each customer's standing choice per tenant and category.
type PolicyQuery struct {
	db *dbutil.Database
}

// Get returns the customer's policies by category; categories absent have none.
func (q *PolicyQuery) Get(ctx context.Context, tenantID, subject string) (map[string]string, error) {
	rows, err := q.db.Query(ctx, getPoliciesQuery, tenantID, subject)
	out := map[string]string{}
	err = dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (struct{}, error) {
		var category, policy string
		err := row.Scan(&category, &policy)
		out[category] = policy
		return struct{}{}, err
	}, err).Iter(func(struct{}) (bool, error) { return true, nil })
	return out, err
}

// Set stores a policy.
func (q *PolicyQuery) Set(ctx context.Context, tenantID, subject, category, policy string, at int64) error {
	_, err := q.db.Exec(ctx, setPolicyQuery, tenantID, subject, category, policy, at)
	return err
}
