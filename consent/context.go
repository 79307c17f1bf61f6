package consent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contactcenter/contactcenter/consent/internal/store"
)

// Customer is an account record the tenant pushes, with the Matrix IDs it knows are
// the customer's.
type Customer struct {
	AccountID      string
	Name           string
	Tier           string
	Products       []string
	AccountManager string
	MatrixIDs      []string
}

// PageVisit is a page the tenant's site reports, keyed by account or by the hash of
// an anonymous visitor code.
type PageVisit struct {
	AccountID   string
	VisitorHash string
	URL         string
	Title       string
	At          time.Time
}

// Kinds of one-time codes.
const (
	CodeLink    = "link"
	CodeVisitor = "visitor"
)

// Code is a one-time code the tenant created, stored only as a hash.
type Code struct {
	Kind      string
	Hash      string
	AccountID string
	ExpiresAt time.Time
}

var (
	// ErrUnknownVisitor: page views name a visitor code the tenant never created, or
	// one that has expired.
	ErrUnknownVisitor = errors.New("unknown visitor code")
	// ErrNotGranted: the customer did not grant the category this needs.
	ErrNotGranted = errors.New("not granted")
)

// UpsertCustomer stores an account record and makes its Matrix IDs the ones the
// tenant links to it (links customers proved with a code stay).
func (l *Ledger) UpsertCustomer(ctx context.Context, tenant string, c Customer) error {
	return l.st.Txn(ctx, func(ctx context.Context) error {
		now := l.now()
		err := l.st.Customers.Upsert(ctx, &store.Customer{TenantID: tenant, AccountID: c.AccountID, Name: c.Name, Tier: c.Tier,
			Products: c.Products, AccountManager: c.AccountManager, UpdatedAt: now})
		if err != nil {
			return err
		}
		return l.st.Links.ReplaceAPILinks(ctx, tenant, c.AccountID, c.MatrixIDs, now)
	})
}

// AddPageVisits stores page views, all or none. A visitor code takes page views
// until it expires, used or not.
func (l *Ledger) AddPageVisits(ctx context.Context, tenant string, visits []PageVisit) error {
	return l.st.Txn(ctx, func(ctx context.Context) error {
		known := map[string]bool{}
		rows := make([]store.PageView, len(visits))
		for i, v := range visits {
			if v.VisitorHash != "" && !known[v.VisitorHash] {
				exists, err := l.st.Codes.Exists(ctx, tenant, v.VisitorHash, CodeVisitor, l.now())
				if err != nil {
					return err
				} else if !exists {
					return fmt.Errorf("views[%d]: %w", i, ErrUnknownVisitor)
				}
				known[v.VisitorHash] = true
			}
			rows[i] = store.PageView{AccountID: v.AccountID, VisitorHash: v.VisitorHash, URL: v.URL, Title: v.Title, At: v.At}
		}
		return l.st.PageViews.Add(ctx, tenant, rows)
	})
}

// SaveCode stores a new one-time code.
func (l *Ledger) SaveCode(ctx context.Context, tenant string, c Code) error {
	return l.st.Codes.Add(ctx, &store.Code{TenantID: tenant, Hash: c.Hash, Kind: c.Kind, AccountID: c.AccountID,
		CreatedAt: l.now(), ExpiresAt: c.ExpiresAt})
}

// Redeem uses a code a customer typed: a link code links their Matrix ID to the
// account, a visitor code makes that visitor's browsing theirs. ok is false when the
// code is unknown, used or expired.
func (l *Ledger) Redeem(ctx context.Context, s Subject, codeHash string) (kind string, ok bool, err error) {
	err = l.st.Txn(ctx, func(ctx context.Context) error {
		now := l.now()
		code, err := l.st.Codes.Claim(ctx, s.Tenant, codeHash, s.UserID, now)
		if err != nil || code == nil {
			return err
		}
		kind, ok = code.Kind, true
		if code.Kind == CodeLink {
			return l.st.Links.Link(ctx, s.Tenant, s.UserID, code.AccountID, store.ViaCode, now)
		}
		return l.st.Visitors.Link(ctx, s.Tenant, codeHash, s.UserID, now)
	})
	return kind, ok, err
}

// Identified tells whether the customer's Matrix ID is linked to an account. It
// reveals nothing of the account, so it needs no grant: the service uses it to decide
// whether to ask for identity and account at all.
func (l *Ledger) Identified(ctx context.Context, s Subject) (bool, error) {
	accountID, err := l.st.Links.AccountOf(ctx, s.Tenant, s.UserID)
	return accountID != "", err
}

// ShareLocation stores a location the customer shared in a conversation, only if
// location is granted there (ErrNotGranted otherwise: nothing is stored).
func (l *Ledger) ShareLocation(ctx context.Context, s Subject, conversation int64, loc LocationView) error {
	return l.st.Txn(ctx, func(ctx context.Context) error {
		state, err := l.State(ctx, s, conversation)
		if err != nil {
			return err
		}
		if state[Location] != Given {
			return ErrNotGranted
		}
		return l.st.Locations.Put(ctx, s.Tenant, s.UserID, &store.Location{GeoURI: loc.GeoURI, Lat: loc.Lat, Lon: loc.Lon,
			AccuracyM: loc.AccuracyM, At: loc.At})
	})
}
