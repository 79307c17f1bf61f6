package database

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/contactcenter/contactcenter/reporting"
)

// The contact log entries of the conversation's state changes (conversationstate.go).
// Each is appended in the transaction of the change, and only by a change that won:
// a change is a write conditional on the status it starts from, so a replayed
// handler or a second replica finds the status changed, loses, and logs nothing.
// The dedupe key therefore only has to tell one change from another of the same
// conversation: its time in milliseconds and its agent, or what makes it once
// (the start, the close, the offer a timeout took back).

const (
	// What an entry needs of the conversation, read before the change: its tenant and
	// opening, who serves it, where it stands, and whether an agent ever accepted it.
	changeFactsQuery = `
		SELECT tenant_id, opened_at, COALESCE(agent_user_id, ''), status, COALESCE(offered_at, 0),
			EXISTS (SELECT 1 FROM conversation_staff s WHERE s.conversation_id = c.id AND s.role = 'agent')
		FROM conversation c WHERE c.id = $1`
	// The step a conversation was queued at, by its queued entry's key.
	stepOfQuery = `SELECT step FROM contact_log WHERE tenant_id = $1 AND dedupe_key = $2`
	// One conversation's entries in order: one range of contact_log_report_idx.
	contactLogConversationQuery = `
		SELECT ` + contactLogColumns + ` FROM contact_log
		WHERE tenant_id = $1 AND opened_at = $2 AND conversation_id = $3
		ORDER BY at, id`
)

// Causes of the entries a conversation has once.
const (
	causeStart = "start"
	causeClose = "close"
)

// QueuedKey is the dedupe key of a conversation's queued entry (one per conversation).
func QueuedKey(convID int64) string { return reporting.Key(convID, "", reporting.Queued, causeStart) }

// changeFacts is a conversation as a state change's entry needs it.
type changeFacts struct {
	tenant    string
	opened    time.Time
	agent     string
	status    ConversationStatus
	offeredAt int64
	// served: an agent accepted it at some time (they are or were its participant).
	served bool
}

// Observe adds fn to what is called with every entry appended from now on, inside the
// transaction that appended it (add them before the service starts). The service
// registers its Prometheus updates and the dashboard's change notices there, to run
// once that commits.
func (q *ContactLogQuery) Observe(fn func(ctx context.Context, e reporting.Entry)) {
	q.observe = append(q.observe, fn)
}

// facts reads what the entries of a change of the conversation need; ok false when
// there is no such conversation.
func (q *ContactLogQuery) facts(ctx context.Context, convID int64) (f changeFacts, ok bool, err error) {
	if q == nil {
		return f, false, nil
	}
	var opened int64
	err = q.db.QueryRow(ctx, changeFactsQuery, convID).Scan(&f.tenant, &opened, &f.agent, &f.status, &f.offeredAt, &f.served)
	if errors.Is(err, sql.ErrNoRows) {
		return f, false, nil
	} else if err != nil {
		return f, false, err
	}
	f.opened = time.UnixMilli(opened)
	return f, true, nil
}

// logChange appends the entry of a change that won, keyed by its time and agent
// unless cause says what makes it once.
func (q *ContactLogQuery) logChange(ctx context.Context, f changeFacts, convID int64, kind reporting.Kind, agent, detail string, at time.Time, cause string) error {
	if q == nil || f.tenant == "" {
		return nil
	}
	if cause == "" {
		cause = strconv.FormatInt(at.UnixMilli(), 10) + "/" + agent
	}
	_, err := q.Append(ctx, reporting.Entry{Tenant: f.tenant, Conversation: convID, OpenedAt: f.opened, Kind: kind,
		Agent: agent, Detail: detail, At: at, Key: reporting.Key(convID, agent, kind, cause)})
	return err
}

// logNow reads the conversation and appends the entry of its change.
func (q *ContactLogQuery) logNow(ctx context.Context, convID int64, kind reporting.Kind, agent string, at time.Time) error {
	f, ok, err := q.facts(ctx, convID)
	if err != nil || !ok {
		return err
	}
	return q.logChange(ctx, f, convID, kind, agent, "", at, "")
}

// logStart appends a new conversation's queued entry.
func (q *ContactLogQuery) logStart(ctx context.Context, convID int64, n NewConversation, now time.Time) error {
	if q == nil {
		return nil
	}
	_, err := q.Append(ctx, reporting.Entry{Tenant: n.TenantID, Conversation: convID, OpenedAt: now, Kind: reporting.Queued,
		Step: n.Step, Customer: n.CustomerRef, At: now, Key: QueuedKey(convID)})
	return err
}

// logTransfer appends what a supervisor's transfer was: the acceptance of a
// conversation nobody served, a transfer from the agent who did, nothing when it
// stays with them.
func (q *ContactLogQuery) logTransfer(ctx context.Context, before changeFacts, convID int64, agent string, now time.Time) error {
	switch before.agent {
	case agent:
		return nil
	case "":
		return q.logChange(ctx, before, convID, reporting.Accepted, agent, "", now, "")
	}
	return q.logChange(ctx, before, convID, reporting.Transferred, agent, before.agent, now, "")
}

// logRequeue appends the requeue of a conversation that was served or offered.
func (q *ContactLogQuery) logRequeue(ctx context.Context, before changeFacts, convID int64, now time.Time) error {
	if before.status == StatusNew {
		return nil
	}
	return q.logChange(ctx, before, convID, reporting.Requeued, before.agent, "", now, "")
}

// logClose appends a conversation's end: ended, by whom, once an agent accepted
// it; abandoned (it left) when the customer ended it before any agent did.
func (q *ContactLogQuery) logClose(ctx context.Context, before changeFacts, convID int64, by string, now time.Time) error {
	if !before.served && by == reporting.EndedByCustomer {
		return q.logChange(ctx, before, convID, reporting.Abandoned, "", reporting.AbandonLeft, now, causeClose)
	}
	return q.logChange(ctx, before, convID, reporting.Ended, "", by, now, causeClose)
}

// StepOf is the step the tenant's conversation was queued at ("" if it was not
// logged).
func (q *ContactLogQuery) StepOf(ctx context.Context, tenantID string, convID int64) (string, error) {
	var step string
	err := q.db.QueryRow(ctx, stepOfQuery, tenantID, QueuedKey(convID)).Scan(&step)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return step, err
}

// Conversation returns one conversation's entries in order, by its tenant and
// opening (the report index's prefix).
func (q *ContactLogQuery) Conversation(ctx context.Context, tenantID string, openedAt time.Time, convID int64) ([]reporting.Entry, error) {
	var entries []reporting.Entry
	err := q.each(ctx, tenantID, func(e reporting.Entry) error {
		entries = append(entries, e)
		return nil
	}, contactLogConversationQuery, tenantID, openedAt.UnixMilli(), convID)
	return entries, err
}
