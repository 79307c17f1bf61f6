package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextapi"
)

// contextAPI builds the tenants' context API over the consent ledger. It writes only:
// reading context stays behind the consent gate.
func (b *Bridge) contextAPI() (*contextapi.Handler, error) {
	var tenants []contextapi.Tenant
	for i := range b.Config.Tenants {
		t := &b.Config.Tenants[i]
		tenants = append(tenants, contextapi.Tenant{ID: t.ID, KeyHashes: t.APIKeyHashes()})
	}
	return contextapi.New(contextStore{b.Consent}, tenants)
}

// contextStore adapts the ledger to what the API needs.
type contextStore struct {
	l *consent.Ledger
}

func (s contextStore) UpsertCustomer(ctx context.Context, tenantID string, c contextapi.Customer) error {
	return s.l.UpsertCustomer(ctx, tenantID, consent.Customer{AccountID: c.AccountID, Name: c.Name, Tier: c.Tier,
		Products: c.Products, AccountManager: c.AccountManager, MatrixIDs: c.MatrixIDs})
}

func (s contextStore) AddPageViews(ctx context.Context, tenantID string, views []contextapi.PageView) error {
	visits := make([]consent.PageVisit, len(views))
	for i, v := range views {
		visits[i] = consent.PageVisit{AccountID: v.AccountID, VisitorHash: v.VisitorCodeHash, URL: v.URL, Title: v.Title, At: v.Time}
	}
	err := s.l.AddPageVisits(ctx, tenantID, visits)
	if errors.Is(err, consent.ErrUnknownVisitor) {
		return fmt.Errorf("%w: %w", contextapi.ErrUnknownVisitorCode, err)
	}
	return err
}

func (s contextStore) SaveCode(ctx context.Context, tenantID string, c contextapi.Code) error {
	return s.l.SaveCode(ctx, tenantID, consent.Code{Kind: string(c.Kind), Hash: c.Hash, AccountID: c.AccountID, ExpiresAt: c.ExpiresAt})
}
