package consent

import (
	"context"
	"time"

	"github.com/contactcenter/contactcenter/consent/internal/store"
)

// Access says who reads a customer's context, and for which conversation. Reader is a
// staff member's user ID, or a part of the service ("routing", "card").
type Access struct {
	Subject      Subject
	Conversation int64
	Reader       string
}

// View is what the gate let a reader see. A field is nil or empty when its category
// was not granted in the conversation or there is nothing behind it.
type View struct {
	// Granted lists the categories granted in the conversation.
	Granted map[Category]bool
	// Decisions is the conversation's consent state for every category decided there,
	// as the read saw it.
	Decisions map[Category]Decision
	// Identity: who the customer is (identity granted and the customer is linked).
	Identity *IdentityView
	// Account: their account record (account granted and linked).
	Account *AccountView
	// Location: where they last shared they were (location granted).
	Location *LocationView
	// Pages: the pages they viewed recently, newest first (browsing granted).
	Pages []PageView
}

type IdentityView struct {
	AccountID string
	Name      string
}

type AccountView struct {
	Tier           string
	Products       []string
	AccountManager string
}

type LocationView struct {
	GeoURI    string
	Lat, Lon  float64
	AccuracyM float64
	At        time.Time
}

type PageView struct {
	URL   string
	Title string
	At    time.Time
}

// Browsing reads at most this many pages from this far back.
const (
	maxPages   = 20
	pagesSince = 30 * 24 * time.Hour
)

// Read is the one gate to customer context: it checks the conversation's consent
// state for each category asked and writes an access-log entry for each, granted or
// not; only granted categories are read. This is the only code that reads the context
// tables (they live in an internal package only this one can import).
func (l *Ledger) Read(ctx context.Context, a Access, categories ...Category) (*View, error) {
	view := &View{Granted: map[Category]bool{}}
	err := l.st.Txn(ctx, func(ctx context.Context) error {
		state, err := l.State(ctx, a.Subject, a.Conversation)
		if err != nil {
			return err
		}
		view.Decisions = state
		now := l.now()
		var accountID string
		for _, c := range categories {
			granted := state[c] == Given
			if err = l.st.AccessLog.Add(ctx, &store.Access{TenantID: a.Subject.Tenant, Subject: a.Subject.UserID, Category: string(c),
				Reader: a.Reader, Conversation: a.Conversation, Granted: granted, At: now}); err != nil {
				return err
			}
			if !granted {
				continue
			}
			view.Granted[c] = true
			if (c == Identity || c == Account || c == Browsing) && accountID == "" {
				if accountID, err = l.st.Links.AccountOf(ctx, a.Subject.Tenant, a.Subject.UserID); err != nil {
					return err
				}
			}
			if err = l.readCategory(ctx, a.Subject, c, accountID, now, view); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

func (l *Ledger) readCategory(ctx context.Context, s Subject, c Category, accountID string, now time.Time, view *View) error {
	switch c {
	case Identity, Account:
		if accountID == "" {
			return nil
		}
		customer, err := l.st.Customers.Get(ctx, s.Tenant, accountID)
		if err != nil || customer == nil {
			if c == Identity && err == nil {
				view.Identity = &IdentityView{AccountID: accountID}
			}
			return err
		}
		if c == Identity {
			view.Identity = &IdentityView{AccountID: accountID, Name: customer.Name}
		} else {
			view.Account = &AccountView{Tier: customer.Tier, Products: customer.Products, AccountManager: customer.AccountManager}
		}
	case Location:
		loc, err := l.st.Locations.Get(ctx, s.Tenant, s.UserID)
		if err != nil || loc == nil {
			return err
		}
		view.Location = &LocationView{GeoURI: loc.GeoURI, Lat: loc.Lat, Lon: loc.Lon, AccuracyM: loc.AccuracyM, At: loc.At}
	case Browsing:
		pages, err := l.st.PageViews.OfSubject(ctx, s.Tenant, accountID, s.UserID, now.Add(-pagesSince), maxPages)
		if err != nil {
			return err
		}
		for _, p := range pages {
			view.Pages = append(view.Pages, PageView{URL: p.URL, Title: p.Title, At: p.At})
		}
	}
	return nil
}

// AccessEntry is one line of the access log.
type AccessEntry struct {
	Category     Category
	Reader       string
	Conversation int64
	Granted      bool
	At           time.Time
}

// AccessLog lists every attempt to read the customer's context, oldest first.
func (l *Ledger) AccessLog(ctx context.Context, s Subject) ([]AccessEntry, error) {
	rows, err := l.st.AccessLog.OfSubject(ctx, s.Tenant, s.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]AccessEntry, len(rows))
	for i, r := range rows {
		out[i] = AccessEntry{Category: Category(r.Category), Reader: r.Reader, Conversation: r.Conversation, Granted: r.Granted, At: r.At}
	}
	return out, nil
}
