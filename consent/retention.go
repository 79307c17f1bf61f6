package consent

import (
	"context"
	"time"
)

// Retention says how long the ledger keeps what it only needs for a while; a zero
// period takes its default. Consent records and policies are kept for good (they are
// the proof of what the customer decided); one-time codes go when they expire, link
// codes as soon as they are used.
type Retention struct {
	// PageViews: page views older than this are deleted.
	PageViews time.Duration
	// AccessLog: access-log entries older than this are deleted.
	AccessLog time.Duration
}

const (
	// DefaultPageViewRetention is the browsing the gate reads: older views are never
	// shown, so they are not kept either.
	DefaultPageViewRetention = pagesSince
	// DefaultAccessLogRetention keeps a year of reads for the customer to ask about.
	DefaultAccessLogRetention = 365 * 24 * time.Hour
)

func (r Retention) pageViews() time.Duration {
	return orDefault(r.PageViews, DefaultPageViewRetention)
}

func (r Retention) accessLog() time.Duration {
	return orDefault(r.AccessLog, DefaultAccessLogRetention)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Pruned counts what a Prune deleted.
type Pruned struct {
	PageViews    int64
	Codes        int64
	VisitorLinks int64
	AccessLog    int64
}

// Prune deletes, in one transaction, what is past its retention: page views and
// access-log entries older than their periods, finished codes (expired, or used link
// codes), and the links of visitors that neither a code nor a page view refers to any
// more. Run it periodically.
func (l *Ledger) Prune(ctx context.Context, r Retention) (Pruned, error) {
	var out Pruned
	err := l.st.Txn(ctx, func(ctx context.Context) error {
		now := l.now()
		var err error
		if out.PageViews, err = l.st.PageViews.PruneBefore(ctx, now.Add(-r.pageViews())); err != nil {
			return err
		}
		if out.Codes, err = l.st.Codes.PruneFinished(ctx, now, CodeLink); err != nil {
			return err
		}
		if out.VisitorLinks, err = l.st.Visitors.PruneUnused(ctx); err != nil {
			return err
		}
		out.AccessLog, err = l.st.AccessLog.PruneBefore(ctx, now.Add(-r.accessLog()))
		return err
	})
	if err != nil {
		return Pruned{}, err
	}
	return out, nil
}
