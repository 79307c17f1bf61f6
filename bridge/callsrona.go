package bridge

import (
	"context"
	"strconv"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/routing"
)

// What a ring nobody answers leaves behind. It counts like an offer the agent let
// lapse: toward the tenant's RONA rule (rona_after in a row and they are away),
// and as a missed offer in the contact log; an answer, taken or declined, starts
// the count again. And the conversation belongs to whoever answers the call: an
// agent the call itself brought in (the workflow chose them for the voice task)
// who does not answer is taken out again, as a lapsed offer is taken back; the
// agents who served the conversation before the call keep it.

// servingAgents are the agents who serve the conversation now.
func (m *callManager) servingAgents(ctx context.Context, convID int64) (map[id.UserID]bool, error) {
	participants, err := m.b.DB.Participants.Current(ctx, convID)
	if err != nil {
		return nil, err
	}
	out := map[id.UserID]bool{}
	for _, p := range participants {
		if p.Role == database.RoleAgent {
			out[p.UserID] = true
		}
	}
	return out, nil
}

// broughtIn records an agent the call made serve the conversation.
func (lc *liveCall) broughtIn(agent id.UserID) {
	if !lc.before[agent] {
		lc.forCall[agent] = true
	}
}

// missedRing counts a ring the agent let run out: their count of missed offers
// grows, the contact log gets a missed offer, they are told in their control room,
// and the tenant's RONA rule may set them away.
func (m *callManager) missedRing(lc *liveCall, agent id.UserID) {
	b, t, wf := m.b, lc.t, lc.t.router.Workflow()
	err := b.doTxn(m.ctx, func(ctx context.Context) error {
		now := b.now()
		missed, err := b.DB.Calls().MissRing(ctx, t.ID, agent)
		if err != nil {
			return err
		}
		away := wf.SetsAway(missed)
		if away {
			if err = firstErr(b.setStaffStatus(ctx, t, agent, routing.Away, now), b.DB.Staff.ResetMissed(ctx, t.ID, agent)); err != nil {
				return err
			}
			zerolog.Ctx(ctx).Info().Stringer("agent", agent).Int("missed", missed).Msg("Agent set away after unanswered calls and offers")
		}
		_, err = b.DB.ContactLog.Append(ctx, reporting.Entry{
			Tenant: t.ID, Conversation: lc.convID, OpenedAt: lc.openedAt, Kind: reporting.OfferMissed, Agent: agent.String(), At: now,
			Key: reporting.Key(lc.convID, agent.String(), reporting.OfferMissed, "call"+strconv.FormatInt(lc.rowID, 10)+"/"+agent.String()),
		})
		if err != nil {
			return err
		}
		record, err := b.DB.Staff.Get(ctx, t.ID, agent)
		if err != nil || record == nil || record.ControlRoomID == "" {
			return err
		}
		return b.DB.Outbox.Enqueue(ctx, outboxKey("call-missed", lc.rowID, agent, now.UnixNano()), record.ControlRoomID, t.UserID,
			event.EventMessage, bot.Notice(bot.CallMissed(lc.convID, m.ring, missed, away)), now)
	})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Stringer("agent", agent).Msg("Could not count a missed call")
	}
	b.outbox.Wake()
}

// answeredRing starts the agent's count of missed offers again: they answered a
// ring (took or declined the call).
func (m *callManager) answeredRing(ctx context.Context, lc *liveCall, agent id.UserID) error {
	return m.b.DB.Staff.ResetMissed(ctx, lc.t.ID, agent)
}

// passOver takes an agent the call brought into the conversation, and who did not
// answer it, out of the conversation: out of its rooms, passed over by routing for
// it from now on; a conversation left without an agent waits again (the call goes
// on ringing the next agent, who takes it).
func (m *callManager) passOver(lc *liveCall, agent id.UserID) {
	if !lc.forCall[agent] {
		return
	}
	delete(lc.forCall, agent)
	b, t := m.b, lc.t
	err := b.doTxn(m.ctx, func(ctx context.Context) error {
		conv, err := b.DB.Conversation.Get(ctx, lc.convID)
		if err != nil || conv == nil || conv.Status == database.StatusClosed {
			return err
		}
		c, now := t.convo(conv, nil), b.now()
		if err = firstErr(
			c.sideNotice(ctx, "call-passed|"+agent.String(), bot.CallPassedOnNotice(t.staffName(agent))),
			c.removeStaff(ctx, agent, bot.CallPassedOn),
			b.DB.Participants.Add(ctx, c.ID, agent, database.RoleDeclined, now),
		); err != nil {
			return err
		}
		left, err := m.servingAgents(ctx, c.ID)
		if err != nil || len(left) > 0 {
			return err
		}
		if _, err = b.DB.Conversation.RequeueAt(ctx, c.ID, now); err != nil {
			return err
		}
		return c.setBusinessName(ctx, t.DisplayName)
	})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Stringer("agent", agent).Msg("Could not pass over an agent who did not answer")
	}
	b.outbox.Wake()
}

// moveOn passes the call on from the agent rung now, who will not answer it, to
// the next one.
func (m *callManager) moveOn(lc *liveCall, agent id.UserID) {
	lc.ringing = ""
	m.releaseAgent(agent, lc)
	m.passOver(lc, agent)
	m.ringNext(lc)
}
