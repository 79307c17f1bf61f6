package consent

import (
	"context"
	"time"

	"github.com/contactcenter/contactcenter/consent/internal/store"
)

// Outside a conversation only what the customer chose for good counts: a standing
// choice of "always". These reads serve the service's own initiatives (outbound
// contact, context triggers), which have no conversation whose consent could apply.

// Standing is a customer's standing choice for one category and when they made it.
type Standing struct {
	Policy Policy
	SetAt  time.Time
}

// StandingChoices returns the customer's standing choices with their times;
// categories absent are Ask.
func (l *Ledger) StandingChoices(ctx context.Context, s Subject) (map[Category]Standing, error) {
	rows, err := l.st.Policies.GetWithTimes(ctx, s.Tenant, s.UserID)
	if err != nil {
		return nil, err
	}
	out := make(map[Category]Standing, len(rows))
	for c, p := range rows {
		out[Category(c)] = Standing{Policy: Policy(p.Policy), SetAt: fromMillisUTC(p.At)}
	}
	return out, nil
}

// LastRecord is the customer's newest record of a category in any conversation, or nil.
func (l *Ledger) LastRecord(ctx context.Context, s Subject, c Category) (*Record, error) {
	records, err := l.Records(ctx, s)
	if err != nil {
		return nil, err
	}
	for i := len(records) - 1; i >= 0; i-- {
		if records[i].Category == c {
			return &records[i], nil
		}
	}
	return nil, nil
}

// MatrixIDsOf lists the Matrix IDs linked to a tenant's account, the most recently
// linked first.
func (l *Ledger) MatrixIDsOf(ctx context.Context, tenant, accountID string) ([]string, error) {
	return l.st.Links.MatrixIDsOf(ctx, tenant, accountID)
}

// SubjectOfVisitor is the customer who typed a visitor code (by its hash), "" when
// nobody did: whose browsing page views of that visitor are.
func (l *Ledger) SubjectOfVisitor(ctx context.Context, tenant, visitorHash string) (string, error) {
	return l.st.Visitors.SubjectOf(ctx, tenant, visitorHash)
}

// ReadStanding is the gate for reads outside any conversation: a category is read
// only when the customer's standing choice for it is "always". Like Read it writes an
// access-log entry for every category asked (conversation 0), granted or not.
func (l *Ledger) ReadStanding(ctx context.Context, s Subject, reader string, categories ...Category) (*View, error) {
	view := &View{Granted: map[Category]bool{}, Decisions: map[Category]Decision{}}
	err := l.st.Txn(ctx, func(ctx context.Context) error {
		policies, err := l.Policies(ctx, s)
		if err != nil {
			return err
		}
		now := l.now()
		var accountID string
		for _, c := range categories {
			granted := policies[c] == Always
			if err = l.st.AccessLog.Add(ctx, &store.Access{TenantID: s.Tenant, Subject: s.UserID, Category: string(c),
				Reader: reader, Granted: granted, At: now}); err != nil {
				return err
			}
			if !granted {
				continue
			}
			view.Granted[c] = true
			if (c == Identity || c == Account || c == Browsing) && accountID == "" {
				if accountID, err = l.st.Links.AccountOf(ctx, s.Tenant, s.UserID); err != nil {
					return err
				}
			}
			if err = l.readCategory(ctx, s, c, accountID, now, view); err != nil {
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

func fromMillisUTC(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
