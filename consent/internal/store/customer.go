package store

import (
	"context"
	"encoding/json"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	upsertCustomerQuery = `
		INSERT INTO customer (tenant_id, account_id, name, tier, products, account_manager, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, account_id) DO UPDATE SET name = excluded.name, tier = excluded.tier,
			products = excluded.products, account_manager = excluded.account_manager, updated_at = excluded.updated_at`
	getCustomerQuery = `
		SELECT tenant_id, account_id, name, tier, products, account_manager, updated_at FROM customer
		WHERE tenant_id = $1 AND account_id = $2`
)

// Customer is an account record the tenant pushed.
type Customer struct {
	TenantID       string
	AccountID      string
	Name           string
	Tier           string
	Products       []string
	AccountManager string
	UpdatedAt      time.Time
}

func (c *Customer) Scan(row dbutil.Scannable) (*Customer, error) {
	var products string
	var updated int64
	if err := row.Scan(&c.TenantID, &c.AccountID, &c.Name, &c.Tier, &products, &c.AccountManager, &updated); err != nil {
		return nil, err
	}
	c.UpdatedAt = fromMillis(updated)
	return c, json.Unmarshal([]byte(products), &c.Products)
}

// CustomerQuery stores customer records.
type CustomerQuery struct {
	*dbutil.QueryHelper[*Customer]
}

func newCustomerQuery(db *dbutil.Database) *CustomerQuery {
	return &CustomerQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Customer]) *Customer { return &Customer{} })}
}

// Upsert stores a record, replacing the previous one of the account.
func (q *CustomerQuery) Upsert(ctx context.Context, c *Customer) error {
	products, err := json.Marshal(append([]string{}, c.Products...))
	if err != nil {
		return err
	}
	return q.Exec(ctx, upsertCustomerQuery, c.TenantID, c.AccountID, c.Name, c.Tier, string(products), c.AccountManager, millis(c.UpdatedAt))
}

// Get returns an account's record, or nil.
func (q *CustomerQuery) Get(ctx context.Context, tenantID, accountID string) (*Customer, error) {
	return q.QueryOne(ctx, getCustomerQuery, tenantID, accountID)
}
