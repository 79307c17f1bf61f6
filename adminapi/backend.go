package adminapi

import (
	"context"
	"time"

	"github.com/contactcenter/contactcenter/database"
)

// Backend is what the API needs of the running service (the bridge implements it).
// The API writes its own tables (staff profiles, workflows, outbound requests and
// decisions, the reveal audit) and then tells the backend, after the commit, so that
// the change takes effect at once; a backend call that fails is logged, and the
// service's periodic re-reading of the database catches up.
type Backend interface {
	// StaffChanged: the tenant's staff profiles changed (added, changed, removed).
	StaffChanged(ctx context.Context, tenant string) error
	// WorkflowReplaced: the tenant's stored workflow changed.
	WorkflowReplaced(ctx context.Context, tenant string) error

	// Conversations lists the tenant's conversations, newest first.
	Conversations(ctx context.Context, tenant string, f ConversationFilter) ([]Conversation, error)
	// Conversation returns one of the tenant's conversations, or nil.
	Conversation(ctx context.Context, tenant string, id int64) (*Conversation, error)

	// CustomerOf is the Matrix ID linked to a tenant's account ("" when none).
	CustomerOf(ctx context.Context, tenant, accountID string) (string, error)
	// OutboundFacts reads what a contact decision needs about the customer (their
	// consent through the consent gate, their zones, an open conversation).
	OutboundFacts(ctx context.Context, tenant, customer string) (OutboundFacts, error)
	// OutboundRequested: a request was stored (routing or deferred); act on it.
	OutboundRequested(ctx context.Context, tenant string, id int64) error

	// Reveal finds the customer behind a subject (pseudonym, ghost user ID or
	// conversation number) at a tenant; nil when there is none.
	Reveal(ctx context.Context, tenant, subject string) (*Revealed, error)
	// Revealed tells the tenant's supervisors that a reveal happened.
	Revealed(ctx context.Context, tenant string, audit *database.Reveal) error
}

// OutboundFacts are the inputs of a decision that the backend reads (see
// outbound.Input for their meaning).
type OutboundFacts struct {
	ContactPolicy    string
	PolicySetAt      time.Time
	LastDecision     string
	LastDecisionAt   time.Time
	OptedOut         bool
	OpenConversation bool
	LocationZone     string
	ProfileZone      string
}

// Revealed is who a subject is.
type Revealed struct {
	MatrixID       string
	ConversationID int64
}

// ConversationFilter selects conversations.
type ConversationFilter struct {
	// State is "open", "closed" or "" for both.
	State string
	// Before lists only conversations with a smaller ID (paging); 0: from the newest.
	Before int64
	Limit  int
}

// Conversation is a conversation as tenants see it: the customer by pseudonym (or
// name, when they shared identity), never by Matrix ID.
type Conversation struct {
	ID         int64     `json:"id"`
	State      string    `json:"state"`
	Customer   string    `json:"customer"`
	Agents     []string  `json:"agents"`
	OpenedAt   time.Time `json:"opened_at"`
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	// Outcome is how it ended ("ended_by_agent", "customer_left", …), "" while open.
	Outcome    string `json:"outcome,omitempty"`
	OutboundID int64  `json:"outbound_id,omitempty"`
}
