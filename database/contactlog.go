package database

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/reporting"
)

const (
	// Reads leave the dedupe key out: the log holds each cause once already.
	contactLogColumns = `conversation_id, opened_at, kind, detail, agent, step, customer_ref, at`
	// A cause already logged writes nothing: a replayed handler, a second replica.
	appendContactLogQuery = `
		INSERT INTO contact_log (tenant_id, conversation_id, opened_at, kind, detail, agent, step, customer_ref, at, dedupe_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`
	// The conversations opened in a period, each one's entries together and in order:
	// one range of contact_log_report_idx.
	contactLogRangeQuery = `
		SELECT ` + contactLogColumns + ` FROM contact_log
		WHERE tenant_id = $1 AND opened_at >= $2 AND opened_at < $3
		ORDER BY opened_at, conversation_id, at, id`
	contactLogExportQuery = `
		SELECT ` + contactLogColumns + ` FROM contact_log
		WHERE tenant_id = $1 AND opened_at >= $2 AND opened_at < $3 AND conversation_id <> 0
		ORDER BY opened_at, conversation_id, at, id`
	// Each staff member's last status before a time. The staff members are walked
	// one by one through contact_log_status_idx (a skip scan), so the cost grows with
	// the number of staff, not with the statuses ever logged.
	contactLogStatusBeforeQuery = `
		WITH RECURSIVE member(who) AS (
			SELECT MIN(agent) FROM contact_log WHERE tenant_id = $1 AND kind = 'agent_status'
			UNION ALL
			SELECT (SELECT MIN(agent) FROM contact_log
				WHERE tenant_id = $1 AND kind = 'agent_status' AND agent > member.who)
			FROM member WHERE member.who IS NOT NULL
		)
		SELECT ` + contactLogColumns + ` FROM member JOIN contact_log l ON l.id = (
			SELECT id FROM contact_log
			WHERE tenant_id = $1 AND kind = 'agent_status' AND agent = member.who AND at < $2
			ORDER BY at DESC, id DESC LIMIT 1)`
)

// ContactLogQuery is the contact log: every step of every conversation, which the
// reports are computed from (see reporting).
type ContactLogQuery struct {
	db      *dbutil.Database
	observe []func(ctx context.Context, e reporting.Entry)
}

func newContactLogQuery(db *dbutil.Database) *ContactLogQuery { return &ContactLogQuery{db: db} }

// Append logs an entry, in the caller's transaction when ctx carries one (write it
// in the transaction of the change it records). False if its key was logged
// already, which is not an error: the cause was handled before.
func (q *ContactLogQuery) Append(ctx context.Context, e reporting.Entry) (bool, error) {
	if err := e.Validate(); err != nil {
		return false, fmt.Errorf("contact log entry %s: %w", e.Key, err)
	}
	res, err := q.db.Exec(ctx, appendContactLogQuery, e.Tenant, e.Conversation, e.OpenedAt.UnixMilli(), string(e.Kind),
		e.Detail, e.Agent, e.Step, e.Customer, e.At.UnixMilli(), e.Key)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 1 {
		for _, fn := range q.observe {
			fn(ctx, e)
		}
	}
	return n == 1, err
}

// EachForReport calls fn with what a report on [from, to) reads: each staff
// member's last status before from−lookback, then the entries of the conversations
// (and statuses) of [from−lookback, to), by conversation and in order.
func (q *ContactLogQuery) EachForReport(ctx context.Context, tenantID string, from, to time.Time, lookback time.Duration, fn func(reporting.Entry) error) error {
	start := from.Add(-lookback)
	if err := q.each(ctx, tenantID, fn, contactLogStatusBeforeQuery, tenantID, start.UnixMilli()); err != nil {
		return err
	}
	return q.each(ctx, tenantID, fn, contactLogRangeQuery, tenantID, start.UnixMilli(), to.UnixMilli())
}

// EachForExport calls fn with the entries of the conversations opened in
// [from, to), by conversation and in order (no staff statuses).
func (q *ContactLogQuery) EachForExport(ctx context.Context, tenantID string, from, to time.Time, fn func(reporting.Entry) error) error {
	return q.each(ctx, tenantID, fn, contactLogExportQuery, tenantID, from.UnixMilli(), to.UnixMilli())
}

// Summary computes a tenant's summary straight from the log.
func (q *ContactLogQuery) Summary(ctx context.Context, tenantID string, query reporting.Query, s reporting.Settings) (reporting.Summary, error) {
	b := reporting.NewBuilder(query, s)
	err := q.EachForReport(ctx, tenantID, query.From, query.To, reporting.Lookback, func(e reporting.Entry) error {
		b.Add(e)
		return nil
	})
	if err != nil {
		return reporting.Summary{}, err
	}
	return b.Summary(), nil
}

func (q *ContactLogQuery) each(ctx context.Context, tenantID string, fn func(reporting.Entry) error, query string, args ...any) error {
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e := reporting.Entry{Tenant: tenantID}
		var opened, at int64
		var kind string
		if err = rows.Scan(&e.Conversation, &opened, &kind, &e.Detail, &e.Agent, &e.Step, &e.Customer, &at); err != nil {
			return err
		}
		e.Kind, e.OpenedAt, e.At = reporting.Kind(kind), time.UnixMilli(opened), time.UnixMilli(at)
		if err = fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SizePostgres is the contact log's rows and bytes on disk (table, indexes and
// TOAST), for the cost per conversation; PostgreSQL only.
func (q *ContactLogQuery) SizePostgres(ctx context.Context) (rows, bytes int64, err error) {
	err = q.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM contact_log), pg_total_relation_size('contact_log')`).Scan(&rows, &bytes)
	return rows, bytes, err
}
