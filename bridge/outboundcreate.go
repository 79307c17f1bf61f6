package bridge

import (
	"context"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

// Outbound requests the service makes itself (an agent accepting a trigger's
// proposal, a customer asking to be called back) are decided and stored as the admin
// API's are: one decision at a time per customer, the decision stored with its
// inputs, the request in the state the decision gives it.

// outboundOrder is a request the service makes of itself.
type outboundOrder struct {
	Customer string
	Reason   string
	// Agent is the only agent it is offered to ("" routes it as any outbound).
	Agent  string
	Origin string
}

// decideOutbound decides an order with the facts read before (OutboundFacts, outside
// any transaction) and stores the request and its decision, in the caller's
// transaction. The request's state is routing, deferred or refused.
func (b *Bridge) decideOutbound(ctx context.Context, t *Tenant, facts adminapi.OutboundFacts, o outboundOrder) (*database.OutboundRequest, outbound.Decision, error) {
	policy, err := t.ContactPolicy()
	if err != nil {
		return nil, outbound.Decision{}, err
	}
	if err = b.DB.Outbound.LockCustomer(ctx, t.ID, o.Customer); err != nil {
		return nil, outbound.Decision{}, err
	}
	now := b.now().UTC()
	in := outbound.Input{Now: now, ContactPolicy: facts.ContactPolicy, PolicySetAt: facts.PolicySetAt, LastDecision: facts.LastDecision,
		LastDecisionAt: facts.LastDecisionAt, OptedOut: facts.OptedOut, OpenConversation: facts.OpenConversation,
		LocationZone: facts.LocationZone, ProfileZone: facts.ProfileZone, TenantZone: policy.TimeZone(),
		Callback: o.Origin == database.OriginCallback}
	if period := policy.Period(); period > 0 {
		if in.Contacts, err = b.DB.Outbound.Contacts(ctx, t.ID, o.Customer, now.Add(-period)); err != nil {
			return nil, outbound.Decision{}, err
		}
	}
	d := outbound.Decide(policy, in)
	r := &database.OutboundRequest{TenantID: t.ID, TargetKind: database.TargetMatrixID, Target: o.Customer, Customer: o.Customer,
		Reason: o.Reason, Agent: o.Agent, Origin: o.Origin, State: outbound.Initial(d.Verdict), Reasons: d.Reasons,
		DeferUntil: d.Until, CreatedAt: now}
	if err = b.DB.Outbound.Insert(ctx, r); err != nil {
		return nil, d, err
	}
	err = b.DB.OutboundDecisions.Insert(ctx, &database.StoredDecision{TenantID: t.ID, Customer: o.Customer, RequestID: r.ID,
		Decision: d, Inputs: in, DecidedAt: now})
	return r, d, err
}
