package bridge

import (
	"context"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// How a call makes the agent it rings serve the conversation, so that they can
// answer in its desk room: the voice task is routed like a chat, and whoever
// answers keeps the conversation (callsrona.go takes out those who do not).

// assignForCall makes the agent serve the conversation so that they can answer in
// its desk room: a waiting conversation is assigned to them (capacity checked, as
// routing's claims are), and so is one offered to an agent the call cannot ring
// (the offer is taken back, which is no miss of theirs); one served already gets
// them as another agent.
func (m *callManager) assignForCall(ctx context.Context, lc *liveCall, agent id.UserID, why string) (won bool, err error) {
	b, t := m.b, lc.t
	err = b.doTxn(ctx, func(ctx context.Context) error {
		conv, err := b.DB.Conversation.Get(ctx, lc.convID)
		if err != nil || conv == nil || conv.Status == database.StatusClosed {
			return err
		}
		c := t.convo(conv, nil)
		now := b.now()
		if conv.Status == database.StatusOffered && conv.OfferedTo != agent {
			took, err := b.DB.Conversation.Decline(ctx, c.ID, conv.OfferedTo)
			if err != nil {
				return err
			}
			if took {
				b.routerOffered(ctx, t, conv.OfferedTo, 0, now)
				conv.Status = database.StatusNew
			}
		}
		if conv.Status == database.StatusNew {
			state, ok := t.router.Agent(agent.String())
			if !ok {
				return nil
			}
			if won, err = b.DB.Conversation.Assign(ctx, t.ID, c.ID, agent, state.Capacity, now); err != nil || !won {
				return err
			}
			b.routerAssigned(ctx, t, agent, now)
			return firstErr(c.sideNotice(ctx, "routed-call", "📞 "+why), c.announceAssignment(ctx, agent, ""))
		}
		won = true
		b.routerAssigned(ctx, t, agent, now)
		return firstErr(c.addAgent(ctx, agent), c.sideNotice(ctx, "routed-call", "📞 "+why))
	})
	if err != nil {
		return false, err
	}
	if won {
		b.outbox.Wake()
	}
	return won, nil
}

// acceptForCall takes the offer of the conversation for the agent it is offered to:
// the call rings them, which answers the offer.
func (m *callManager) acceptForCall(ctx context.Context, lc *liveCall, agent id.UserID) (won bool, err error) {
	b, t := m.b, lc.t
	err = b.doTxn(ctx, func(ctx context.Context) error {
		now := b.now()
		if won, err = b.DB.Conversation.Accept(ctx, lc.convID, agent, now); err != nil || !won {
			return err
		}
		conv, err := b.DB.Conversation.Get(ctx, lc.convID)
		if err != nil || conv == nil {
			return err
		}
		b.routerOffered(ctx, t, agent, 0, now)
		b.routerAssigned(ctx, t, agent, now)
		return t.convo(conv, nil).announceAssignment(ctx, agent, "")
	})
	if err == nil && won {
		b.outbox.Wake()
	}
	return won, err
}
