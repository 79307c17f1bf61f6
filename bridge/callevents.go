package bridge

import (
	"context"
	"encoding/json"
	"strconv"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/voice"
)

// What the relay reports about a call, run on the call's actor: an agent answered,
// a leg ended (the next agent rings if the call still rings), the call ended (it is
// recorded, the side room gets its summary).

func (m *callManager) onVoiceEvent(lc *liveCall, ev voice.Event) {
	if m.onBesideEvent(lc, ev) {
		return
	}
	m.recordingOnEvent(lc, ev)
	switch ev.Kind {
	case voice.EventAnswered:
		m.onAnswered(lc, ev.Leg)
	case voice.EventLegEnded:
		m.onLegEnded(lc, ev)
	case voice.EventCallEnded:
		m.onCallEnded(lc, ev)
	}
}

func (m *callManager) onAnswered(lc *liveCall, leg *voice.Leg) {
	agent := lc.agentOf(leg)
	if agent == "" {
		return
	}
	lc.answeredBy, lc.ringing = agent, ""
	// The call, and the conversation, are theirs now.
	delete(lc.forCall, agent)
	if lc.ringTimer != nil {
		lc.ringTimer.Stop()
	}
	m.claimAgent(agent, lc)
	b := m.b
	err := b.doTxn(m.ctx, func(ctx context.Context) error {
		first, err := b.DB.Calls().Answered(ctx, lc.rowID, agent, b.now())
		if err != nil {
			return err
		}
		if !first { // a transfer's new agent
			if _, err = b.DB.Calls().TakenOver(ctx, lc.rowID, agent); err != nil {
				return err
			}
		}
		if err := m.answeredRing(ctx, lc, agent); err != nil {
			return err
		}
		conv, err := b.DB.Conversation.Get(ctx, lc.convID)
		if err != nil || conv == nil {
			return err
		}
		c := lc.t.convo(conv, nil)
		return firstErr(
			c.logCall(ctx, lc.rowID, reporting.CallAnswered, agent, ""),
			c.sideNotice(ctx, "call-started|"+strconv.FormatInt(lc.rowID, 10), bot.CallStartedMirror(lc.customerName, lc.t.staffName(agent))),
		)
	})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not record the call's answer")
	}
	b.outbox.Wake()
	m.log.Info().Int64("call", lc.rowID).Stringer("agent", agent).Msg("Call answered")
}

func (m *callManager) onLegEnded(lc *liveCall, ev voice.Event) {
	leg := ev.Leg
	if leg.Role() == voice.RoleCustomer {
		lc.custRemote = ev.Remote
		return
	}
	agent := lc.agentOf(leg)
	outcome := "hung_up"
	switch {
	case agent == lc.answeredBy && agent != "":
		outcome = database.OutcomeAnswered
	case ev.Rejected:
		outcome = "rejected"
	case ev.Reason == voice.ReasonInviteTimeout:
		outcome = "no_answer"
	case !ev.Remote:
		outcome = "cancelled"
	}
	if err := m.b.DB.Calls().EndLeg(m.ctx, lc.rowID, leg.CallID(), outcome, m.b.now()); err != nil {
		m.log.Warn().Err(err).Msg("Could not record the end of a call leg")
	}
	if agent == "" || agent == lc.answeredBy {
		return
	}
	if ev.Rejected {
		// Declining is an answer: the count of missed offers starts again.
		if err := m.answeredRing(m.ctx, lc, agent); err != nil {
			m.log.Warn().Err(err).Msg("Could not reset an agent's missed offers")
		}
	}
	m.releaseAgent(agent, lc)
	if agent == lc.ringing && lc.call.State() == voice.CallRinging {
		// Declined, hung up or timed out while ringing: the next agent rings.
		m.moveOn(lc, agent)
	}
}

func (m *callManager) onCallEnded(lc *liveCall, ev voice.Event) {
	defer func() {
		m.forget(lc)
		close(lc.quit)
	}()
	if lc.ringTimer != nil {
		lc.ringTimer.Stop()
	}
	b := m.b
	st := lc.call.Stats()
	outcome, endedBy := database.OutcomeFailed, "service"
	switch {
	case lc.answeredBy != "":
		outcome = database.OutcomeAnswered
	case lc.custRemote:
		outcome = database.OutcomeAbandoned
	case lc.gaveUp || ev.Reason == voice.ReasonInviteTimeout:
		outcome = database.OutcomeMissed
	}
	if cust := st.Customer; cust != nil && cust.EndedBy == "remote" {
		endedBy = "customer"
	} else {
		for _, a := range st.Agents {
			if a.EndedBy == "remote" && lc.answeredBy != "" && a.State != voice.LegRinging {
				endedBy = "agent"
			}
		}
	}
	stats, _ := json.Marshal(st)
	rung := make([]string, 0, len(lc.tried))
	for _, a := range lc.tried {
		rung = append(rung, lc.t.staffName(a))
	}
	summary := bot.CallSummary{Customer: lc.customerName, Rung: rung, Started: lc.started, Duration: st.Duration,
		Outcome: outcome, EndReason: string(ev.Reason), EndedBy: endedBy}
	if lc.answeredBy != "" {
		summary.Agent = lc.t.staffName(lc.answeredBy)
	}
	err := b.doTxn(m.ctx, func(ctx context.Context) error {
		if _, err := b.DB.Calls().End(ctx, lc.rowID, outcome, string(ev.Reason), endedBy, string(stats), b.now()); err != nil {
			return err
		}
		conv, err := b.DB.Conversation.Get(ctx, lc.convID)
		if err != nil || conv == nil {
			return err
		}
		c := lc.t.convo(conv, nil)
		key := strconv.FormatInt(lc.rowID, 10)
		if outcome == database.OutcomeMissed && !lc.gaveUp {
			err = c.enqueue(ctx, outboxKey("call-missed", lc.rowID), lc.customerRoom, lc.t.UserID, event.EventMessage, bot.Notice(bot.CallNobodyAnswered))
		}
		if lc.answeredBy != "" {
			err = firstErr(err, c.sideNotice(ctx, "call-ended|"+key, bot.CallEndedMirror(lc.customerName)))
		}
		return firstErr(err,
			c.logCall(ctx, lc.rowID, reporting.CallEnded, lc.answeredBy, outcome),
			c.sideNotice(ctx, "call-summary|"+key, summary.Text()),
		)
	})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not record the end of a call")
	}
	b.outbox.Wake()
	if lc.answeredBy == "" && !lc.gaveUp {
		// A conversation the call left waiting goes on as a chat.
		if err := b.offerWaiting(m.ctx, lc.t); err != nil {
			m.log.Warn().Err(err).Msg("Could not route the conversation of an unanswered call")
		}
	}
	m.log.Info().Int64("call", lc.rowID).Str("outcome", outcome).Str("reason", string(ev.Reason)).
		Dur("setup", st.SetupTime).Dur("duration", st.Duration).Msg("Call ended")
}

// logCall appends a call step to the contact log, once per call and kind.
func (c *convo) logCall(ctx context.Context, callRow int64, kind reporting.Kind, agent id.UserID, detail string) error {
	_, err := c.b.DB.ContactLog.Append(ctx, reporting.Entry{
		Tenant: c.t.ID, Conversation: c.ID, OpenedAt: c.OpenedAt, Kind: kind, Detail: detail, Agent: agent.String(),
		At: c.b.now(), Key: reporting.Key(c.ID, agent.String(), kind, "call"+strconv.FormatInt(callRow, 10)),
	})
	return err
}
