package database

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	proposalColumns     = `id, tenant_id, rule, customer_mxid, agent, reason, proposed_at, answer, answered_at, outbound_id`
	insertProposalQuery = `
		INSERT INTO outbound_proposal (tenant_id, rule, customer_mxid, agent, reason, proposed_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`
	getProposalQuery    = `SELECT ` + proposalColumns + ` FROM outbound_proposal WHERE id = $1`
	lastProposedQuery   = `SELECT COALESCE(MAX(proposed_at), 0) FROM outbound_proposal WHERE tenant_id = $1 AND rule = $2 AND customer_mxid = $3`
	answerProposalQuery = `
		UPDATE outbound_proposal SET answer = $2, answered_at = $3, outbound_id = $4 WHERE id = $1 AND answer IS NULL`
)

// Answers to a proposal.
const (
	ProposalAccepted = "accepted"
	ProposalDeclined = "declined"
)

// Proposal is a context trigger's proposal to an agent to contact a customer.
type Proposal struct {
	ID         int64
	TenantID   string
	Rule       string
	Customer   string
	Agent      string
	Reason     string
	ProposedAt time.Time
	// Answer is "" while the agent has not answered.
	Answer     string
	AnsweredAt time.Time
	OutboundID int64
}

func (p *Proposal) Scan(row dbutil.Scannable) (*Proposal, error) {
	var answer sql.NullString
	var answered, outboundID sql.NullInt64
	var proposed int64
	err := row.Scan(&p.ID, &p.TenantID, &p.Rule, &p.Customer, &p.Agent, &p.Reason, &proposed, &answer, &answered, &outboundID)
	if err != nil {
		return nil, err
	}
	p.ProposedAt, p.Answer, p.AnsweredAt, p.OutboundID = time.UnixMilli(proposed), answer.String, optionalTime(answered), outboundID.Int64
	return p, nil
}

// OutboundProposalQuery keeps the triggers' proposals.
type OutboundProposalQuery struct {
	*dbutil.QueryHelper[*Proposal]
}

func newOutboundProposalQuery(db *dbutil.Database) *OutboundProposalQuery {
	return &OutboundProposalQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Proposal]) *Proposal { return &Proposal{} })}
}

// Add stores a proposal and sets its ID.
func (q *OutboundProposalQuery) Add(ctx context.Context, p *Proposal) error {
	return q.GetDB().QueryRow(ctx, insertProposalQuery, p.TenantID, p.Rule, p.Customer, p.Agent, p.Reason,
		p.ProposedAt.UnixMilli()).Scan(&p.ID)
}

// Get returns a proposal, or nil.
func (q *OutboundProposalQuery) Get(ctx context.Context, id int64) (*Proposal, error) {
	return noRow(q.QueryOne(ctx, getProposalQuery, id))
}

// LastProposed is when a rule last proposed a customer (zero: never), for its cooldown.
func (q *OutboundProposalQuery) LastProposed(ctx context.Context, tenantID, rule, customer string) (time.Time, error) {
	var at int64
	if err := q.GetDB().QueryRow(ctx, lastProposedQuery, tenantID, rule, customer).Scan(&at); err != nil || at == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(at), nil
}

// Answer records the agent's answer once; answered is false if it was answered
// before. outboundID is the request an acceptance created (0 for none).
func (q *OutboundProposalQuery) Answer(ctx context.Context, id int64, answer string, outboundID int64, at time.Time) (answered bool, err error) {
	res, err := q.GetDB().Exec(ctx, answerProposalQuery, id, answer, at.UnixMilli(), sql.NullInt64{Int64: outboundID, Valid: outboundID != 0})
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
