package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	getTenantWorkflowQuery = `SELECT tenant_id, source, version, updated_at FROM tenant_workflow WHERE tenant_id = $1`
	putTenantWorkflowQuery = `
		INSERT INTO tenant_workflow (tenant_id, source, version, updated_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET source = excluded.source, version = tenant_workflow.version + 1,
			updated_at = excluded.updated_at`
)

// TenantWorkflow is a tenant's routing workflow as set through the admin API.
type TenantWorkflow struct {
	TenantID string
	// Source is the workflow's YAML, as a config would hold it.
	Source    string
	Version   int64
	UpdatedAt time.Time
}

func (w *TenantWorkflow) Scan(row dbutil.Scannable) (*TenantWorkflow, error) {
	var updated int64
	if err := row.Scan(&w.TenantID, &w.Source, &w.Version, &updated); err != nil {
		return nil, err
	}
	w.UpdatedAt = time.UnixMilli(updated)
	return w, nil
}

// TenantWorkflowQuery keeps the workflows set through the admin API; a tenant without
// one routes by its config's.
type TenantWorkflowQuery struct {
	*dbutil.QueryHelper[*TenantWorkflow]
}

func newTenantWorkflowQuery(db *dbutil.Database) *TenantWorkflowQuery {
	return &TenantWorkflowQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*TenantWorkflow]) *TenantWorkflow {
		return &TenantWorkflow{}
	})}
}

// Get returns the tenant's stored workflow, or nil.
func (q *TenantWorkflowQuery) Get(ctx context.Context, tenantID string) (*TenantWorkflow, error) {
	return noRow(q.QueryOne(ctx, getTenantWorkflowQuery, tenantID))
}

// Put replaces the tenant's workflow and returns it as stored (with its version).
func (q *TenantWorkflowQuery) Put(ctx context.Context, tenantID, source string, at time.Time) (*TenantWorkflow, error) {
	var out *TenantWorkflow
	err := q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := q.Exec(ctx, putTenantWorkflowQuery, tenantID, source, at.UnixMilli()); err != nil {
			return err
		}
		var err error
		out, err = q.Get(ctx, tenantID)
		return err
	})
	return out, err
}
