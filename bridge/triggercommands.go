package bridge

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

// !reach and !pass answer a trigger's proposal in the control room of the agent it
// was made to. Reaching out makes an outbound request offered to that agent only,
// decided and stored as the admin API's are; the customer hears nothing before the
// agent accepts its offer, and the decision is made again then.

// errProposalAnswered: the proposal was answered while this answer was made; the
// transaction rolls back the request it made.
var errProposalAnswered = errors.New("the proposal was answered meanwhile")

// proposalCommand answers !reach and !pass.
func (b *Bridge) proposalCommand(ctx context.Context, c *controlCall) error {
	j, t, staff, args := c.j, c.t, c.staff, c.cmd.Args
	var p *database.Proposal
	if len(args) == 1 {
		if n, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64); err == nil {
			if p, err = b.DB.Proposals.Get(ctx, n); err != nil {
				return err
			}
		}
	}
	reply := func(text string) error {
		return j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, j, t, text) })
	}
	switch {
	case len(args) != 1:
		return reply(bot.ProposalUsage(c.spec.Name))
	case p == nil || p.TenantID != t.ID || p.Agent != staff.UserID.String():
		return reply(bot.NoProposal(args[0]))
	case p.Answer != "":
		return reply(bot.ProposalAnswered(p.ID, p.Answer))
	}
	if c.spec == bot.CmdPass {
		return j.Commit(ctx, func(ctx context.Context) error {
			if answered, err := b.DB.Proposals.Answer(ctx, p.ID, database.ProposalDeclined, 0, b.now()); err != nil || !answered {
				return err
			}
			return b.reply(ctx, j, t, bot.ProposalPassed(p.ID))
		})
	}
	// Read before the commit: the customer's zone may be asked of their homeserver.
	facts, err := b.OutboundFacts(ctx, t.ID, p.Customer)
	if err != nil {
		return err
	}
	return j.Commit(ctx, func(ctx context.Context) error { return b.reachProposal(ctx, j, t, p, facts) })
}

// reachProposal makes an accepted proposal an outbound request for its agent, in the
// command's commit, and starts it once committed if it is allowed now.
func (b *Bridge) reachProposal(ctx context.Context, j *job, t *Tenant, p *database.Proposal, facts adminapi.OutboundFacts) error {
	r, d, err := b.decideOutbound(ctx, t, facts, outboundOrder{Customer: p.Customer, Reason: p.Reason, Agent: p.Agent,
		Origin: database.OriginTrigger})
	if err != nil {
		return err
	}
	answered, err := b.DB.Proposals.Answer(ctx, p.ID, database.ProposalAccepted, r.ID, b.now())
	if err != nil {
		return err
	}
	if !answered {
		return errProposalAnswered // the job is tried again and finds it answered
	}
	zerolog.Ctx(ctx).Info().Int64("proposal", p.ID).Int64("outbound", r.ID).Str("state", string(r.State)).
		Msg("Proposal accepted: outbound request made")
	if r.State == outbound.StateRouting {
		b.afterCommit(ctx, func(ctx context.Context) {
			if err := b.startOutbound(ctx, t, r); err != nil {
				// Stored as routing: the outbound loop starts it on a later tick.
				zerolog.Ctx(ctx).Warn().Err(err).Int64("outbound", r.ID).Msg("Could not start an outbound request")
			}
		})
	}
	return b.reply(ctx, j, t, bot.ProposalReached(p.ID, r.ID, string(r.State), reasonCodes(d.Reasons)))
}
