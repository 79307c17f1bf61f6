package contextapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/contactcenter/contactcenter/consent"
)

// LedgerStore is the Store the service uses: the consent ledger, which keeps the
// context behind its gate. The API only writes; reading context stays with the gate.
type LedgerStore struct {
	Ledger *consent.Ledger
}

func (s LedgerStore) UpsertCustomer(ctx context.Context, tenantID string, c Customer) error {
	return s.Ledger.UpsertCustomer(ctx, tenantID, consent.Customer{AccountID: c.AccountID, Name: c.Name, Tier: c.Tier,
		Products: c.Products, AccountManager: c.AccountManager, MatrixIDs: c.MatrixIDs})
}

func (s LedgerStore) AddPageViews(ctx context.Context, tenantID string, views []PageView) error {
	visits := make([]consent.PageVisit, len(views))
	for i, v := range views {
		visits[i] = consent.PageVisit{AccountID: v.AccountID, VisitorHash: v.VisitorCodeHash, URL: v.URL, Title: v.Title, At: v.Time}
	}
	err := s.Ledger.AddPageVisits(ctx, tenantID, visits)
	if errors.Is(err, consent.ErrUnknownVisitor) {
		return fmt.Errorf("%w: %w", ErrUnknownVisitorCode, err)
	}
	return err
}

func (s LedgerStore) SaveCode(ctx context.Context, tenantID string, c Code) error {
	return s.Ledger.SaveCode(ctx, tenantID, consent.Code{Kind: string(c.Kind), Hash: c.Hash, AccountID: c.AccountID, ExpiresAt: c.ExpiresAt})
}
