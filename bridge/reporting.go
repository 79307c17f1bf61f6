package bridge

import (
	"context"
	"strconv"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/internal/metrics"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/routing"
)

// The contact log entries the bridge appends itself, for what happens outside the
// conversation's state changes (those log themselves, see
// database/conversationstate.go): the first agent response, consent answers (counts
// only), staff statuses, the end of the agent's wrap-up. Each is appended inside the
// transaction of what it records, keyed by its cause (the inbox event, the receipt,
// the close), so a replay or a second replica never writes it twice.

// reportingState is the bridge's share of reporting.
type reportingState struct {
	// metrics is nil unless metrics.listen is set.
	metrics *metrics.Metrics
	server  *metrics.Server
	steps   stepCache
	todays  todayCache
	scrape  scrapeCache
}

// firstStep is the step a new conversation is queued at: the first the workflow
// tries for a task nobody knows anything about yet.
func (t *Tenant) firstStep() string {
	step, _ := t.router.StepFor(&routing.Task{}, 0)
	return stepName(t.router.Workflow(), step)
}

// logEntry appends an entry of the conversation in the transaction under way.
func (c *convo) logEntry(ctx context.Context, kind reporting.Kind, agent, detail, cause string, at time.Time) error {
	_, err := c.b.DB.ContactLog.Append(ctx, reporting.Entry{Tenant: c.TenantID, Conversation: c.ID, OpenedAt: c.OpenedAt,
		Kind: kind, Agent: agent, Detail: detail, At: at, Key: reporting.Key(c.ID, agent, kind, cause)})
	return err
}

// logAgentMessage notes an agent's message to the customer: the conversation's
// first one is its first agent response (one key per conversation, so every later
// message writes nothing).
func (c *convo) logAgentMessage(ctx context.Context, agent id.UserID) error {
	return c.logEntry(ctx, reporting.FirstResponse, agent.String(), "", "first", c.b.now())
}

// logConsent counts consent answers by category and outcome; never whose.
func (c *convo) logConsent(ctx context.Context, records []consent.Record) error {
	for _, r := range records {
		var kind reporting.Kind
		switch r.Decision {
		case consent.Given:
			kind = reporting.ConsentGiven
		case consent.Refused:
			kind = reporting.ConsentRefused
		case consent.Withdrawn:
			kind = reporting.ConsentWithdrawn
		default:
			continue
		}
		at := r.At
		if at.IsZero() {
			at = c.b.now()
		}
		if err := c.logEntry(ctx, kind, "", string(r.Category), r.ReceiptID+"/"+string(r.Category), at); err != nil {
			return err
		}
	}
	return nil
}

// logWrapUp logs the end of the wrap-up of the agent who served the conversation
// last, due wrap_up after its end; nothing when they have none.
func (c *convo) logWrapUp(ctx context.Context, ended time.Time) error {
	if c.Agent == "" || len(c.t.AgentTools.WrapUpCodes) > 0 {
		return nil // with wrap-up codes, the code or the deadline ends wrap-up (wrapup.go)
	}
	s := c.t.staffEntry(c.Agent)
	if s == nil || s.WrapUp.Std() <= 0 {
		return nil
	}
	return c.logEntry(ctx, reporting.WrapUpEnded, c.Agent.String(), "", "close", ended.Add(s.WrapUp.Std()))
}

// logStatus logs a staff member's new status, keyed by the time it was set.
func (b *Bridge) logStatus(ctx context.Context, t *Tenant, userID id.UserID, status string, at time.Time) error {
	cause := strconv.FormatInt(at.UnixMilli(), 10) + "/" + status
	_, err := b.DB.ContactLog.Append(ctx, reporting.Entry{Tenant: t.ID, OpenedAt: at, At: at, Kind: reporting.AgentStatus,
		Agent: userID.String(), Detail: status, Key: reporting.Key(0, userID.String(), reporting.AgentStatus, cause)})
	return err
}

// endedBy says who ends the conversation, for the log: a staff member's !end (the
// one end with the customer still there), the customer's own leaving (the event
// handled is theirs), or else the service.
func (c *convo) endedBy(customerPresent bool) string {
	switch {
	case customerPresent:
		return reporting.EndedByAgent
	case c.j != nil && c.j.evt != nil && c.Customer != "" && c.j.evt.Sender == c.Customer:
		return reporting.EndedByCustomer
	}
	return reporting.EndedBySystem
}
