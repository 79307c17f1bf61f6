package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/outbound"
)

const (
	decisionColumns     = `id, request_id, tenant_id, customer_mxid, verdict, defer_until, reasons, inputs, zone, zone_source, dry_run, decided_at`
	insertDecisionQuery = `
		INSERT INTO outbound_decision (request_id, tenant_id, customer_mxid, verdict, defer_until, reasons, inputs, zone,
			zone_source, dry_run, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		RETURNING id`
	decisionsOfRequestQuery  = `SELECT ` + decisionColumns + ` FROM outbound_decision WHERE request_id = $1 ORDER BY id`
	decisionsOfCustomerQuery = `
		SELECT ` + decisionColumns + ` FROM outbound_decision WHERE tenant_id = $1 AND customer_mxid = $2
		ORDER BY id DESC LIMIT $3`
)

// StoredDecision is a contactability decision as kept: what it was made from and what
// it said. RequestID is 0 for a dry run's.
type StoredDecision struct {
	ID        int64
	RequestID int64
	TenantID  string
	Customer  string
	Decision  outbound.Decision
	Inputs    outbound.Input
	DryRun    bool
	DecidedAt time.Time
}

func (d *StoredDecision) Scan(row dbutil.Scannable) (*StoredDecision, error) {
	var request, until sql.NullInt64
	var reasons, inputs string
	var decided int64
	err := row.Scan(&d.ID, &request, &d.TenantID, &d.Customer, &d.Decision.Verdict, &until, &reasons, &inputs,
		&d.Decision.Zone, &d.Decision.ZoneSource, &d.DryRun, &decided)
	if err != nil {
		return nil, err
	}
	if err = json.Unmarshal([]byte(reasons), &d.Decision.Reasons); err != nil {
		return nil, fmt.Errorf("outbound decision %d: reasons: %w", d.ID, err)
	}
	if err = json.Unmarshal([]byte(inputs), &d.Inputs); err != nil {
		return nil, fmt.Errorf("outbound decision %d: inputs: %w", d.ID, err)
	}
	d.RequestID, d.Decision.Until, d.DecidedAt = request.Int64, optionalTime(until), time.UnixMilli(decided)
	d.Decision.LocalTime = d.Inputs.Now.In(zoneOrUTC(d.Decision.Zone)).Format("2006-01-02 15:04 Mon")
	return d, nil
}

func zoneOrUTC(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// OutboundDecisionQuery keeps every contactability decision.
type OutboundDecisionQuery struct {
	*dbutil.QueryHelper[*StoredDecision]
}

func newOutboundDecisionQuery(db *dbutil.Database) *OutboundDecisionQuery {
	return &OutboundDecisionQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*StoredDecision]) *StoredDecision {
		return &StoredDecision{}
	})}
}

// Insert stores a decision and sets its ID.
func (q *OutboundDecisionQuery) Insert(ctx context.Context, d *StoredDecision) error {
	reasons, err := reasonsJSON(d.Decision.Reasons)
	if err != nil {
		return err
	}
	inputs, err := json.Marshal(d.Inputs)
	if err != nil {
		return err
	}
	request := sql.NullInt64{Int64: d.RequestID, Valid: d.RequestID != 0}
	return q.GetDB().QueryRow(ctx, insertDecisionQuery, request, d.TenantID, d.Customer, d.Decision.Verdict,
		millisOrNull(d.Decision.Until), reasons, string(inputs), d.Decision.Zone, d.Decision.ZoneSource, d.DryRun,
		d.DecidedAt.UnixMilli()).Scan(&d.ID)
}

// OfRequest lists a request's decisions, oldest first.
func (q *OutboundDecisionQuery) OfRequest(ctx context.Context, requestID int64) ([]*StoredDecision, error) {
	return q.QueryMany(ctx, decisionsOfRequestQuery, requestID)
}

// OfCustomer lists the newest decisions about a customer at a tenant, dry runs
// included, newest first.
func (q *OutboundDecisionQuery) OfCustomer(ctx context.Context, tenantID, customer string, limit int) ([]*StoredDecision, error) {
	return q.QueryMany(ctx, decisionsOfCustomerQuery, tenantID, customer, limit)
}
