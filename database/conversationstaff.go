package database

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	conversationStaffColumns = `conversation_id, user_id, role, added_at, removed_at`
	addParticipantQuery      = `
		INSERT INTO conversation_staff (conversation_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET role = excluded.role, added_at = excluded.added_at, removed_at = NULL`
	removeConversationStaffQuery = `UPDATE conversation_staff SET removed_at = $3 WHERE conversation_id = $1 AND user_id = $2 AND removed_at IS NULL`
	conversationStaffQuery       = `SELECT ` + conversationStaffColumns + ` FROM conversation_staff WHERE conversation_id = $1 AND removed_at IS NULL AND role <> 'declined' ORDER BY added_at, user_id`
	openOfStaffQuery             = `
		SELECT s.conversation_id, s.user_id, s.role, s.added_at, s.removed_at FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
		WHERE c.tenant_id = $1 AND s.user_id = $2 AND c.status <> 'closed' AND s.removed_at IS NULL AND s.role <> 'declined'
		ORDER BY s.conversation_id`
	declinedOfTenantQuery = `
		SELECT s.conversation_id, s.user_id FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
		WHERE c.tenant_id = $1 AND c.status <> 'closed' AND s.role = 'declined'`
	activeLoadQuery = `
		SELECT s.user_id FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
		WHERE c.tenant_id = $1 AND c.status <> 'closed' AND s.role = 'agent' AND s.removed_at IS NULL`
)

// StaffRole is what a staff member does in one conversation.
type StaffRole string

const (
	// RoleAgent talks to the customer: desk and side room.
	RoleAgent StaffRole = "agent"
	// RoleMonitor watches: side room only.
	RoleMonitor StaffRole = "monitor"
	// RoleDeclined marks an agent who passed on the conversation (declined it, or
	// transferred it away): it is not offered to them again.
	RoleDeclined StaffRole = "declined"
)

// Participant is a staff member taking part in a conversation.
type Participant struct {
	ConversationID int64
	UserID         id.UserID
	Role           StaffRole
	AddedAt        time.Time
	RemovedAt      time.Time
}

func (p *Participant) Scan(row dbutil.Scannable) (*Participant, error) {
	var added int64
	var removed sql.NullInt64
	if err := row.Scan(&p.ConversationID, &p.UserID, &p.Role, &added, &removed); err != nil {
		return nil, err
	}
	p.AddedAt = time.UnixMilli(added)
	p.RemovedAt = optionalTime(removed)
	return p, nil
}

type ConversationStaffQuery struct {
	*dbutil.QueryHelper[*Participant]
}

func newConversationStaffQuery(db *dbutil.Database) *ConversationStaffQuery {
	return &ConversationStaffQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Participant]) *Participant { return &Participant{} })}
}

// Add puts a staff member into a conversation (again) in a role.
func (q *ConversationStaffQuery) Add(ctx context.Context, convID int64, userID id.UserID, role StaffRole, now time.Time) error {
	return q.Exec(ctx, addParticipantQuery, convID, userID, role, now.UnixMilli())
}

// Remove takes a staff member out of a conversation.
func (q *ConversationStaffQuery) Remove(ctx context.Context, convID int64, userID id.UserID, now time.Time) error {
	return q.Exec(ctx, removeConversationStaffQuery, convID, userID, now.UnixMilli())
}

// Current lists who takes part in a conversation now.
func (q *ConversationStaffQuery) Current(ctx context.Context, convID int64) ([]*Participant, error) {
	return q.QueryMany(ctx, conversationStaffQuery, convID)
}

// OpenOfStaff lists what a staff member takes part in now: their places (as agent or
// monitor) in the tenant's open conversations.
func (q *ConversationStaffQuery) OpenOfStaff(ctx context.Context, tenantID string, userID id.UserID) ([]*Participant, error) {
	return q.QueryMany(ctx, openOfStaffQuery, tenantID, userID)
}

// ActiveLoad counts the open conversations each agent of a tenant serves.
func (q *ConversationStaffQuery) ActiveLoad(ctx context.Context, tenantID string) (map[id.UserID]int, error) {
	rows, err := q.GetDB().Query(ctx, activeLoadQuery, tenantID)
	return collectCounts(rows, err)
}

// Declined lists, per open conversation of a tenant, the agents who passed on it: one
// query for a whole routing pass.
func (q *ConversationStaffQuery) Declined(ctx context.Context, tenantID string) (map[int64][]id.UserID, error) {
	rows, err := q.GetDB().Query(ctx, declinedOfTenantQuery, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	declined := map[int64][]id.UserID{}
	for rows.Next() {
		var convID int64
		var agent id.UserID
		if err = rows.Scan(&convID, &agent); err != nil {
			return nil, err
		}
		declined[convID] = append(declined[convID], agent)
	}
	return declined, rows.Err()
}

// collectCounts counts rows of one user ID column per user.
func collectCounts(rows dbutil.Rows, err error) (map[id.UserID]int, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[id.UserID]int{}
	for rows.Next() {
		var userID id.UserID
		if err = rows.Scan(&userID); err != nil {
			return nil, err
		}
		counts[userID]++
	}
	return counts, rows.Err()
}
