package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/reporting"
)

// The conversation's state machine: every status change is a method here.
//
//	Start     → new
//	Offer     new → offered        routing asks an agent (capacity checked)
//	Assign    new → assigned       routing assigns without asking (capacity checked)
//	Accept    offered → assigned   the agent it is offered to takes it
//	Decline   offered → new        the agent it is offered to passes
//	Withdraw  offered → new        the offer lapsed: a missed offer is counted
//	Transfer  open → assigned      a supervisor hands it to an agent (no checks)
//	Requeue   open → new           back to the queue, without agent or offer
//	Close     open → closed
//
// Each change is a write conditional on the status it starts from, and reports
// whether it happened: several replicas of the service may change one conversation
// at once, and the one whose write finds the status changed has lost. Assign, Accept
// and Transfer make the agent a participant in the same transaction. A change that
// won appends its contact log entry in its transaction too (contactlogstate.go).
//
// Lock order. Rows are locked in one order: the agent's staff row, then the
// conversation row, then its participants. Answer and Withdraw take them so. The
// claims (Offer, Assign) come to the conversation before the agent (routing walks
// the queue, then picks agents), so they never wait on a locked row: on PostgreSQL
// the conversation is read with SKIP LOCKED (a replica busy with it wins; the other
// moves on) and the agent's row with NOWAIT (the claim is lost, not failed, see
// lockTaken); only an agent the service never saw, whose row two claims insert at
// once, makes the second wait for the first to commit. Holding the agent's row, a
// claim counts the load the previous claim on them committed. On SQLite every
// transaction is BEGIN IMMEDIATE, which already runs writers one at a time.
const (
	insertConversationQuery = `
		INSERT INTO conversation (tenant_id, room_id, status, opened_at, ghost_user_id, desk_room_id, side_room_id)
		VALUES ($1, $2, 'new', $3, $4, $5, $6) RETURNING id`
	// The conversation's status, and whether the agent declined it.
	claimConversationQuery = `
		SELECT status, EXISTS (SELECT 1 FROM conversation_staff s WHERE s.conversation_id = c.id AND s.user_id = $3 AND s.role = 'declined')
		FROM conversation c WHERE c.id = $1 AND c.tenant_id = $2`
	// An agent's load: the open conversations they serve and the offers they have not
	// answered; UNION counts a conversation that is both only once.
	agentLoadQuery = `
		SELECT COUNT(*) FROM (
			SELECT s.conversation_id AS id FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
			WHERE s.user_id = $2 AND s.role = 'agent' AND s.removed_at IS NULL AND c.tenant_id = $1 AND c.status <> 'closed'
			UNION
			SELECT id FROM conversation WHERE tenant_id = $1 AND status = 'offered' AND offered_to = $2
		) AS agent_load`
	offerTenantQuery = `SELECT tenant_id FROM conversation WHERE id = $1 AND status = 'offered' AND offered_to = $2`

	offerQuery = `UPDATE conversation SET status = 'offered', offered_to = $2, offered_at = $3 WHERE id = $1 AND status = 'new'`
	// An assignment, followed by the status it may start from (offered_at stays: the
	// offer an assignment answered keeps its time; a waiting conversation has none).
	assignQuery     = `UPDATE conversation SET status = 'assigned', agent_user_id = $2, assigned_at = $3, offered_to = NULL WHERE id = $1 AND `
	fromNew         = `status = 'new'`
	fromOfferedToIt = `status = 'offered' AND offered_to = $2`
	fromOpen        = `status <> 'closed'`
	unofferQuery    = `UPDATE conversation SET status = 'new', offered_to = NULL, offered_at = NULL WHERE id = $1 AND status = 'offered' AND offered_to = $2`
	requeueQuery    = `UPDATE conversation SET status = 'new', agent_user_id = NULL, offered_to = NULL, offered_at = NULL WHERE id = $1 AND status <> 'closed'`
	closeQuery      = `UPDATE conversation SET status = 'closed', closed_at = $2, offered_to = NULL WHERE id = $1 AND status <> 'closed'`
)

// NewConversation is what a conversation starts with.
type NewConversation struct {
	TenantID string
	RoomID   id.RoomID
	Ghost    id.UserID
	DeskRoom id.RoomID
	SideRoom id.RoomID
	// Step is the workflow step or queue it is queued at, CustomerRef the customer as
	// staff see them (a pseudonym, never the Matrix ID): for the contact log.
	Step        string
	CustomerRef string
}

// Start opens a new conversation in a customer room, waiting for an agent, and
// returns it as Get would.
func (q *ConversationQuery) Start(ctx context.Context, n NewConversation, now time.Time) (*Conversation, error) {
	var convID int64
	err := q.GetDB().QueryRow(ctx, insertConversationQuery, n.TenantID, n.RoomID, now.UnixMilli(),
		nullString(n.Ghost), nullString(n.DeskRoom), nullString(n.SideRoom)).Scan(&convID)
	if err != nil {
		return nil, err
	}
	if err = q.log.logStart(ctx, convID, n, now); err != nil {
		return nil, err
	}
	return q.Get(ctx, convID)
}

// Offer offers a waiting conversation of the tenant to an agent, if it is still
// waiting, the agent has not declined it, and their load (conversations they serve
// plus offers they have not answered) is below capacity. False, without waiting,
// when another transaction is claiming the conversation.
func (q *ConversationQuery) Offer(ctx context.Context, tenantID string, convID int64, agent id.UserID, capacity int, now time.Time) (bool, error) {
	return q.claim(ctx, tenantID, convID, agent, capacity, func(ctx context.Context) (bool, error) {
		if won, err := changed(ctx, q.GetDB(), offerQuery, convID, agent, now.UnixMilli()); err != nil || !won {
			return false, err
		}
		return true, q.log.logNow(ctx, convID, reporting.Offered, agent.String(), now)
	})
}

// Assign makes the agent serve a waiting conversation of the tenant directly (no
// offer), on the same conditions as Offer.
func (q *ConversationQuery) Assign(ctx context.Context, tenantID string, convID int64, agent id.UserID, capacity int, now time.Time) (bool, error) {
	return q.claim(ctx, tenantID, convID, agent, capacity, func(ctx context.Context) (bool, error) {
		if won, err := q.assign(ctx, fromNew, convID, agent, now); err != nil || !won {
			return false, err
		}
		return true, q.log.logNow(ctx, convID, reporting.Accepted, agent.String(), now)
	})
}

// Accept turns an offer into an assignment if it is still offered to the agent (not
// withdrawn, timed out or taken back). The offer already counted in the agent's
// load, so no capacity check is needed.
func (q *ConversationQuery) Accept(ctx context.Context, convID int64, agent id.UserID, now time.Time) (won bool, err error) {
	err = q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		if won, err = q.assign(ctx, fromOfferedToIt, convID, agent, now); err != nil || !won {
			return err
		}
		return q.log.logNow(ctx, convID, reporting.Accepted, agent.String(), now)
	})
	return won && err == nil, err
}

// Decline puts a conversation offered to the agent back to waiting (they passed on
// it); false if it is not offered to them any more (it lapsed and went to someone
// else).
func (q *ConversationQuery) Decline(ctx context.Context, convID int64, agent id.UserID) (bool, error) {
	return changed(ctx, q.GetDB(), unofferQuery, convID, agent)
}

// Answer is the agent's answer to the offer of a conversation of the tenant: their
// count of missed offers starts again (their staff row first, in the lock order),
// then the offer is accepted or declined. won: it was still theirs to answer.
func (q *ConversationQuery) Answer(ctx context.Context, tenantID string, convID int64, agent id.UserID, accept bool, now time.Time) (won bool, err error) {
	err = q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := q.Exec(ctx, resetMissedQuery, tenantID, agent); err != nil {
			return err
		}
		if accept {
			won, err = q.Accept(ctx, convID, agent, now)
		} else if won, err = q.Decline(ctx, convID, agent); won && err == nil {
			err = q.log.logNow(ctx, convID, reporting.OfferDeclined, agent.String(), now)
		}
		return err
	})
	return won && err == nil, err
}

// Withdraw puts a conversation back to waiting if it is still offered to the agent
// (the offer timed out) and counts a missed offer for the agent.
func (q *ConversationQuery) Withdraw(ctx context.Context, convID int64, agent id.UserID) (bool, error) {
	return q.WithdrawAt(ctx, convID, agent, time.Now())
}

// WithdrawAt is Withdraw at now, the time the contact log gives the missed offer.
func (q *ConversationQuery) WithdrawAt(ctx context.Context, convID int64, agent id.UserID, now time.Time) (bool, error) {
	return q.attempt(ctx, func(ctx context.Context) (bool, error) {
		var tenantID string
		err := q.GetDB().QueryRow(ctx, offerTenantQuery, convID, agent).Scan(&tenantID)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		if err = q.lockStaff(ctx, tenantID, agent); err != nil {
			return false, err
		}
		before, _, err := q.log.facts(ctx, convID)
		if err != nil {
			return false, err
		}
		if won, err := changed(ctx, q.GetDB(), unofferQuery, convID, agent); err != nil || !won {
			return false, err
		}
		// Keyed by the offer it took back.
		cause := strconv.FormatInt(before.offeredAt, 10) + "/" + agent.String()
		return true, errors.Join(q.Exec(ctx, missQuery, tenantID, agent),
			q.log.logChange(ctx, before, convID, reporting.OfferMissed, agent.String(), "", now, cause))
	})
}

// Transfer makes the agent serve an open conversation, whoever served it or was
// offered it: a supervisor's decision, without routing's checks.
func (q *ConversationQuery) Transfer(ctx context.Context, convID int64, agent id.UserID, now time.Time) (won bool, err error) {
	err = q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		before, _, err := q.log.facts(ctx, convID)
		if err != nil {
			return err
		}
		if won, err = q.assign(ctx, fromOpen, convID, agent, now); err != nil || !won {
			return err
		}
		return q.log.logTransfer(ctx, before, convID, agent.String(), now)
	})
	return won && err == nil, err
}

// Requeue puts an open conversation back to waiting for an agent.
func (q *ConversationQuery) Requeue(ctx context.Context, convID int64) (bool, error) {
	return q.RequeueAt(ctx, convID, time.Now())
}

// RequeueAt is Requeue at now, the time the contact log gives it.
func (q *ConversationQuery) RequeueAt(ctx context.Context, convID int64, now time.Time) (won bool, err error) {
	err = q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		before, _, err := q.log.facts(ctx, convID)
		if err != nil {
			return err
		}
		if won, err = changed(ctx, q.GetDB(), requeueQuery, convID); err != nil || !won {
			return err
		}
		return q.log.logRequeue(ctx, before, convID, now)
	})
	return won && err == nil, err
}

// Close ends a conversation, by the service (reporting.EndedBySystem); closing a
// closed one does nothing and reports false.
func (q *ConversationQuery) Close(ctx context.Context, convID int64, now time.Time) (bool, error) {
	return q.CloseBy(ctx, convID, now, reporting.EndedBySystem)
}

// CloseBy is Close by someone (reporting.EndedBy*), for the contact log: ended, or
// abandoned when the customer left before any agent accepted it.
func (q *ConversationQuery) CloseBy(ctx context.Context, convID int64, now time.Time, by string) (won bool, err error) {
	err = q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		before, _, err := q.log.facts(ctx, convID)
		if err != nil {
			return err
		}
		if won, err = changed(ctx, q.GetDB(), closeQuery, convID, now.UnixMilli()); err != nil || !won {
			return err
		}
		return q.log.logClose(ctx, before, convID, by, now)
	})
	return won && err == nil, err
}

// assign is every assignment: the agent serves the conversation from now on, if its
// status is as from says, and is its participant as agent.
func (q *ConversationQuery) assign(ctx context.Context, from string, convID int64, agent id.UserID, now time.Time) (bool, error) {
	if won, err := changed(ctx, q.GetDB(), assignQuery+from, convID, agent, now.UnixMilli()); err != nil || !won {
		return false, err
	}
	return true, q.Exec(ctx, addParticipantQuery, convID, agent, RoleAgent, now.UnixMilli())
}

// claim runs Offer and Assign: the checks under the locks, then write (which still
// checks the status, should a caller have changed it in the same transaction).
func (q *ConversationQuery) claim(ctx context.Context, tenantID string, convID int64, agent id.UserID, capacity int, write func(context.Context) (bool, error)) (bool, error) {
	if tenantID == "" || agent == "" {
		return false, fmt.Errorf("claim of conversation %d: tenant %q and agent %q must not be empty", convID, tenantID, agent)
	}
	if capacity <= 0 {
		return false, nil
	}
	return q.attempt(ctx, func(ctx context.Context) (bool, error) {
		var status ConversationStatus
		var declined bool
		err := q.GetDB().QueryRow(ctx, claimConversationQuery+q.skipLocked, convID, tenantID, agent).Scan(&status, &declined)
		if errors.Is(err, sql.ErrNoRows) { // another transaction holds it, or no such conversation
			return false, nil
		} else if err != nil || status != StatusNew || declined {
			return false, err
		}
		if err = q.lockStaff(ctx, tenantID, agent); err != nil {
			return false, err
		}
		// Counted by a statement of its own, after the lock: on PostgreSQL (read
		// committed) it sees what the claims that held the lock before committed; a
		// count inside the locking statement would use that statement's older snapshot.
		var load int
		if err = q.GetDB().QueryRow(ctx, agentLoadQuery, tenantID, agent).Scan(&load); err != nil || load >= capacity {
			return false, err
		}
		return write(ctx)
	})
}

// lockStaff locks the agent's staff row, creating it if the service never saw them:
// with no row to lock, two claims on a new agent would not queue up.
func (q *ConversationQuery) lockStaff(ctx context.Context, tenantID string, agent id.UserID) error {
	var missed int
	err := q.GetDB().QueryRow(ctx, missedQuery+q.noWait, tenantID, agent).Scan(&missed)
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err = q.Exec(ctx, insertStaffQuery, tenantID, agent); err != nil {
		return err
	}
	return q.GetDB().QueryRow(ctx, missedQuery+q.noWait, tenantID, agent).Scan(&missed)
}

// attempt runs one change that takes locks in a transaction. Joining the caller's
// transaction on PostgreSQL, it sets a savepoint and rolls a refused or failed
// change back to it, which releases the locks it took: a router trying agent after
// agent in one transaction keeps only the agent it won (holding the others could
// deadlock two replicas walking the agents in different orders).
func (q *ConversationQuery) attempt(ctx context.Context, change func(context.Context) (bool, error)) (won bool, err error) {
	db := q.GetDB()
	_, joined := db.Execable(ctx).(dbutil.Transaction)
	savepoint := joined && db.Dialect == dbutil.Postgres
	err = db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if !savepoint {
			won, err = change(ctx)
			return err
		}
		if err := q.Exec(ctx, "SAVEPOINT cc_claim"); err != nil {
			return err
		}
		won, err = change(ctx)
		if err == nil && won {
			return q.Exec(ctx, "RELEASE SAVEPOINT cc_claim")
		}
		// One round trip for both; an error of the change comes first.
		rollback := q.Exec(ctx, "ROLLBACK TO SAVEPOINT cc_claim; RELEASE SAVEPOINT cc_claim")
		if rollback == nil && lockTaken(err) {
			won = false
			return nil
		}
		return errors.Join(err, rollback)
	})
	if lockTaken(err) {
		return false, nil
	}
	return won && err == nil, err
}

// lockTaken tells whether a change failed only because another transaction holds the
// agent's row (PostgreSQL's lock_not_available): the change is lost, not failed.
func lockTaken(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "55P03"
}
