package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Claims are the routing decisions that must hold when several replicas of the
// service share one database: a conversation is offered or assigned once, and an
// agent never gets more than their capacity.
//
// On PostgreSQL each claim locks the conversation row with SKIP LOCKED (a replica
// busy with it wins; the other moves on without waiting) and then the agent's staff
// row (claims on one agent queue up, so each counts the load the previous one left).
// Every lock is taken in that order: conversation, then agent. On SQLite every
// transaction is BEGIN IMMEDIATE, which already runs writers one at a time.
const (
	// The conversation's status, and whether the agent declined it.
	claimConversationQuery = `
		SELECT status, EXISTS (SELECT 1 FROM conversation_staff s WHERE s.conversation_id = c.id AND s.user_id = $3 AND s.role = 'declined')
		FROM conversation c WHERE c.id = $1 AND c.tenant_id = $2`
	claimStaffQuery    = `SELECT missed_offers FROM staff WHERE tenant_id = $1 AND user_id = $2`
	claimNewStaffQuery = `INSERT INTO staff (tenant_id, user_id) VALUES ($1, $2) ON CONFLICT (tenant_id, user_id) DO NOTHING`
	// An agent's load: the open conversations they serve and the offers they have not
	// answered; UNION counts a conversation that is both only once.
	claimLoadQuery = `
		SELECT COUNT(*) FROM (
			SELECT s.conversation_id AS id FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
			WHERE s.user_id = $2 AND s.role = 'agent' AND s.removed_at IS NULL AND c.tenant_id = $1 AND c.status <> 'closed'
			UNION
			SELECT id FROM conversation WHERE tenant_id = $1 AND status = 'offered' AND offered_to = $2
		) AS agent_load`
	claimOfferQuery  = `UPDATE conversation SET status = 'offered', offered_to = $2, offered_at = $3 WHERE id = $1 AND status = 'new'`
	claimAssignQuery = `
		UPDATE conversation SET status = 'assigned', agent_user_id = $2, assigned_at = $3, offered_to = NULL, offered_at = NULL
		WHERE id = $1 AND status = 'new'`
	claimAcceptQuery = `
		UPDATE conversation SET status = 'assigned', agent_user_id = $2, assigned_at = $3, offered_to = NULL
		WHERE id = $1 AND status = 'offered' AND offered_to = $2`
	claimOfferTenantQuery = `SELECT tenant_id FROM conversation WHERE id = $1 AND status = 'offered' AND offered_to = $2`
	claimWithdrawQuery    = `UPDATE conversation SET status = 'new', offered_to = NULL, offered_at = NULL WHERE id = $1 AND status = 'offered' AND offered_to = $2`
	claimMissQuery        = `UPDATE staff SET missed_offers = missed_offers + 1 WHERE tenant_id = $1 AND user_id = $2`
	claimResetMissedQuery = `UPDATE staff SET missed_offers = 0 WHERE tenant_id = $1 AND user_id = $2`
	claimExpiredQuery     = `SELECT ` + conversationColumns + ` FROM conversation WHERE status = 'offered' AND offered_at < $1 ORDER BY offered_at, id`
	claimWaitingQuery     = `
		SELECT ` + conversationColumns + ` FROM conversation WHERE tenant_id = $1 AND status = 'new'
		ORDER BY priority DESC, opened_at, id LIMIT $2`
)

// ClaimQuery offers and assigns conversations atomically. Each method is one
// transaction, or part of the caller's when ctx carries one.
type ClaimQuery struct {
	db            *dbutil.Database
	conversations *dbutil.QueryHelper[*Conversation]
	// Row locks, empty on SQLite.
	skipLocked, forUpdate string
}

func newClaimQuery(db *dbutil.Database) *ClaimQuery {
	q := &ClaimQuery{db: db, conversations: newConversationQuery(db).QueryHelper}
	if db.Dialect == dbutil.Postgres {
		// NOWAIT: an agent another claim holds is lost at once (see lockTaken), never
		// waited for, so two transactions claiming agents in different orders cannot
		// deadlock.
		q.skipLocked, q.forUpdate = " FOR UPDATE SKIP LOCKED", " FOR UPDATE NOWAIT"
	}
	return q
}

// NewClaimQuery makes the claims of an open database (for tests and tools; the
// service uses Database.Claims).
func NewClaimQuery(db *dbutil.Database) *ClaimQuery { return newClaimQuery(db) }

// Offer offers a waiting conversation of the tenant to an agent, if it is still
// waiting, the agent has not declined it, and their load (conversations they serve
// plus offers they have not answered) is below capacity. False, without waiting,
// when another transaction is claiming the conversation.
func (q *ClaimQuery) Offer(ctx context.Context, tenantID string, convID int64, agent id.UserID, capacity int, now time.Time) (bool, error) {
	return q.take(ctx, tenantID, convID, agent, capacity, func(ctx context.Context) (bool, error) {
		return q.update(ctx, claimOfferQuery, convID, agent, now.UnixMilli())
	})
}

// Assign makes the agent serve a waiting conversation of the tenant directly (no
// offer), on the same conditions as Offer; the agent joins its participants.
func (q *ClaimQuery) Assign(ctx context.Context, tenantID string, convID int64, agent id.UserID, capacity int, now time.Time) (bool, error) {
	return q.take(ctx, tenantID, convID, agent, capacity, func(ctx context.Context) (bool, error) {
		if won, err := q.update(ctx, claimAssignQuery, convID, agent, now.UnixMilli()); err != nil || !won {
			return false, err
		}
		return true, q.exec(ctx, addConversationStaffQuery, convID, agent, RoleAgent, now.UnixMilli())
	})
}

// take runs Offer and Assign: the checks under the locks, then write (which still
// checks the status, should a caller have changed it in the same transaction).
func (q *ClaimQuery) take(ctx context.Context, tenantID string, convID int64, agent id.UserID, capacity int, write func(context.Context) (bool, error)) (bool, error) {
	if tenantID == "" || agent == "" {
		return false, fmt.Errorf("claim of conversation %d: tenant %q and agent %q must not be empty", convID, tenantID, agent)
	}
	if capacity <= 0 {
		return false, nil
	}
	return q.attempt(ctx, func(ctx context.Context) (bool, error) {
		var status ConversationStatus
		var declined bool
		err := q.db.QueryRow(ctx, claimConversationQuery+q.skipLocked, convID, tenantID, agent).Scan(&status, &declined)
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
		if err = q.db.QueryRow(ctx, claimLoadQuery, tenantID, agent).Scan(&load); err != nil || load >= capacity {
			return false, err
		}
		return write(ctx)
	})
}

// lockStaff locks the agent's staff row, creating it if the service never saw them:
// with no row to lock, two claims on a new agent would not queue up.
func (q *ClaimQuery) lockStaff(ctx context.Context, tenantID string, agent id.UserID) error {
	var missed int
	err := q.db.QueryRow(ctx, claimStaffQuery+q.forUpdate, tenantID, agent).Scan(&missed)
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err = q.exec(ctx, claimNewStaffQuery, tenantID, agent); err != nil {
		return err
	}
	return q.db.QueryRow(ctx, claimStaffQuery+q.forUpdate, tenantID, agent).Scan(&missed)
}

// attempt runs one claim in a transaction. Joining the caller's transaction on
// PostgreSQL, it sets a savepoint and rolls a refused or failed claim back to it,
// which releases the locks the claim took: a router trying agent after agent in one
// transaction keeps only the agent it won (holding the others could deadlock two
// replicas walking the agents in different orders).
func (q *ClaimQuery) attempt(ctx context.Context, claim func(context.Context) (bool, error)) (won bool, err error) {
	_, joined := q.db.Execable(ctx).(dbutil.Transaction)
	savepoint := joined && q.db.Dialect == dbutil.Postgres
	err = q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if !savepoint {
			won, err = claim(ctx)
			return err
		}
		if err := q.exec(ctx, "SAVEPOINT cc_claim"); err != nil {
			return err
		}
		won, err = claim(ctx)
		if err == nil && won {
			return q.exec(ctx, "RELEASE SAVEPOINT cc_claim")
		}
		// One round trip for both; an error of the claim comes first.
		rollback := q.exec(ctx, "ROLLBACK TO SAVEPOINT cc_claim; RELEASE SAVEPOINT cc_claim")
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

// lockTaken tells whether a claim failed only because another transaction holds the
// agent's row (PostgreSQL's lock_not_available): the claim is lost, not failed.
func lockTaken(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "55P03"
}

// Accept turns an offer into an assignment if it is still offered to the agent (not
// withdrawn, timed out or taken back); the agent joins its participants. The offer
// already counted in the agent's load, so no capacity check is needed.
func (q *ClaimQuery) Accept(ctx context.Context, convID int64, agent id.UserID, now time.Time) (won bool, err error) {
	err = q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if won, err = q.update(ctx, claimAcceptQuery, convID, agent, now.UnixMilli()); err != nil || !won {
			return err
		}
		return q.exec(ctx, addConversationStaffQuery, convID, agent, RoleAgent, now.UnixMilli())
	})
	return won && err == nil, err
}

// Withdraw puts a conversation back to waiting if it is still offered to the agent
// (the offer timed out) and counts a missed offer for the agent.
func (q *ClaimQuery) Withdraw(ctx context.Context, convID int64, agent id.UserID) (bool, error) {
	return q.attempt(ctx, func(ctx context.Context) (bool, error) {
		var tenantID string
		err := q.db.QueryRow(ctx, claimOfferTenantQuery, convID, agent).Scan(&tenantID)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		// The agent's row first: an answer to the offer (ResetMissed, then Accept)
		// takes the locks in that order too.
		if err = q.lockStaff(ctx, tenantID, agent); err != nil {
			return false, err
		}
		if won, err := q.update(ctx, claimWithdrawQuery, convID, agent); err != nil || !won {
			return false, err
		}
		return true, q.exec(ctx, claimMissQuery, tenantID, agent)
	})
}

// Missed counts the offers in a row the agent let time out.
func (q *ClaimQuery) Missed(ctx context.Context, tenantID string, agent id.UserID) (missed int, err error) {
	err = q.db.QueryRow(ctx, claimStaffQuery, tenantID, agent).Scan(&missed)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return missed, err
}

// ResetMissed starts the agent's count of missed offers again (they answered).
func (q *ClaimQuery) ResetMissed(ctx context.Context, tenantID string, agent id.UserID) error {
	return q.exec(ctx, claimResetMissedQuery, tenantID, agent)
}

// Expired lists the offers, of every tenant, made before offeredBefore and still
// unanswered, oldest first.
func (q *ClaimQuery) Expired(ctx context.Context, offeredBefore time.Time) ([]*Conversation, error) {
	return q.conversations.QueryMany(ctx, claimExpiredQuery, offeredBefore.UnixMilli())
}

// Waiting lists up to limit of the tenant's waiting conversations in queue order:
// priority (higher first), then age. On PostgreSQL it skips conversations another
// transaction is claiming and locks the ones it returns until the caller's
// transaction ends, so replicas walking the queue at once take different ones.
// Outside a transaction the locks end with the query.
func (q *ClaimQuery) Waiting(ctx context.Context, tenantID string, limit int) ([]*Conversation, error) {
	if limit < 1 {
		return nil, fmt.Errorf("waiting conversations of %q: limit %d must be positive", tenantID, limit)
	}
	return q.conversations.QueryMany(ctx, claimWaitingQuery+q.skipLocked, tenantID, limit)
}

// update tells whether the statement changed a row.
func (q *ClaimQuery) update(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := q.db.Exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (q *ClaimQuery) exec(ctx context.Context, query string, args ...any) error {
	_, err := q.db.Exec(ctx, query, args...)
	return err
}
