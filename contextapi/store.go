package contextapi

import (
	"context"
	"errors"
	"time"

	"github.com/contactcenter/contactcenter/linkcode"
)

// Store is what the context API needs from the database. Every method gets the tenant
// that the request's API key belongs to, never one taken from the request, and every
// value it gets has been validated in full. A method stores all it is given or nothing.
type Store interface {
	// UpsertCustomer creates the customer record or replaces it whole (PUT semantics:
	// a field left out of the request is empty here and must be emptied).
	UpsertCustomer(ctx context.Context, tenantID string, c Customer) error
	// AddPageViews stores a batch of page views, all or none. A view with a visitor
	// code hash that no SaveCode of this tenant created, or whose code has expired,
	// fails the whole batch with an error that wraps ErrUnknownVisitorCode.
	AddPageViews(ctx context.Context, tenantID string, views []PageView) error
	// SaveCode stores a new link or visitor code, by its hash only.
	SaveCode(ctx context.Context, tenantID string, c Code) error
}

// ErrUnknownVisitorCode is what a Store wraps when a page view names a visitor code
// it does not know (never created for this tenant, or expired). The API answers 422
// CC_INVALID and stores nothing.
var ErrUnknownVisitorCode = errors.New("unknown or expired visitor code")

// Customer is a tenant's record of one of its customers.
type Customer struct {
	AccountID      string   // the tenant's own ID for the account
	Name           string   // may be empty
	Tier           string   // e.g. "gold"; may be empty
	Products       []string // no duplicates; may be empty
	AccountManager string   // a Matrix user ID, or empty
	MatrixIDs      []string // Matrix user IDs linked to the account; no duplicates
}

// PageView is one page a customer or an anonymous visitor saw on the tenant's site.
// Exactly one of AccountID and VisitorCodeHash is set.
type PageView struct {
	AccountID       string
	VisitorCodeHash string // linkcode.Hash of a visitor code; the code itself is never stored
	URL             string // absolute http(s) URL, without user info
	Title           string // may be empty
	Time            time.Time
}

// Code is a link or visitor code as it is stored: by its hash, never in clear.
type Code struct {
	Kind      linkcode.Kind
	Hash      string // linkcode.Hash of the canonical code
	AccountID string // the account a link code proves; empty for visitor codes
	ExpiresAt time.Time
}
