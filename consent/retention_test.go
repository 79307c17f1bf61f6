package consent_test

import (
	"errors"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/consent"
)

// TestExpiredVisitorCodeTakesNoPageViews: a visitor code counts for page views until
// it expires, used or not; after that the tenant's views by it are refused.
func TestExpiredVisitorCodeTakesNoPageViews(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		noErr(t, l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeVisitor, Hash: "h-live", ExpiresAt: time.Now().Add(time.Hour)}))
		noErr(t, l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeVisitor, Hash: "h-expired", ExpiresAt: time.Now().Add(-time.Second)}))
		noErr(t, l.AddPageVisits(ctx, "acme", []consent.PageVisit{{VisitorHash: "h-live", URL: "https://acme.test/a", At: time.Now()}}))
		err := l.AddPageVisits(ctx, "acme", []consent.PageVisit{{VisitorHash: "h-expired", URL: "https://acme.test/b", At: time.Now()}})
		if !errors.Is(err, consent.ErrUnknownVisitor) {
			t.Fatalf("page view by an expired visitor code: %v", err)
		}
	})
}

// TestPruneKeepsOnlyWhatIsStillNeeded ages the ledger's context and log and prunes:
// page views past the browsing window, codes past their expiry or used (link codes),
// visitor links that nothing refers to any more, and access-log entries past their
// retention go; everything younger stays and still works.
func TestPruneKeepsOnlyWhatIsStillNeeded(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		now := time.Now().UTC().Truncate(time.Millisecond)
		clock := now
		consent.SetClock(l, func() time.Time { return clock })
		day := 24 * time.Hour
		access := consent.Access{Subject: alice, Conversation: 1, Reader: "test"}

		// A year and a half ago: a read of her context (logged), and a visitor code she
		// redeemed, long expired, with a page view by it.
		clock = now.Add(-540 * day)
		noErr(t, l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeVisitor, Hash: "h-old-visit", ExpiresAt: clock.Add(day)}))
		noErr(t, l.AddPageVisits(ctx, "acme", []consent.PageVisit{{VisitorHash: "h-old-visit", URL: "https://acme.test/old", At: clock}}))
		must[string](t)(redeem(l, "h-old-visit"))
		must[*consent.View](t)(l.Read(ctx, access, consent.Browsing))

		// Now: her account, a link code she used, one she did not, a live visitor code,
		// pages from 40 days and from a day ago, and a read.
		clock = now
		noErr(t, l.UpsertCustomer(ctx, "acme", consent.Customer{AccountID: "A-1", Name: "Alice Liddell"}))
		noErr(t, l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeLink, Hash: "h-used", AccountID: "A-1", ExpiresAt: now.Add(day)}))
		noErr(t, l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeLink, Hash: "h-unused", AccountID: "A-1", ExpiresAt: now.Add(day)}))
		noErr(t, l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeVisitor, Hash: "h-visit", ExpiresAt: now.Add(day)}))
		must[string](t)(redeem(l, "h-used"))
		must[string](t)(redeem(l, "h-visit"))
		noErr(t, l.AddPageVisits(ctx, "acme", []consent.PageVisit{
			{AccountID: "A-1", URL: "https://acme.test/stale", At: now.Add(-40 * day)},
			{AccountID: "A-1", URL: "https://acme.test/fresh", At: now.Add(-day)},
			{VisitorHash: "h-visit", URL: "https://acme.test/visit", At: now.Add(-day)},
		}))
		must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodText, purposes, grant(consent.Browsing), false))
		must[*consent.View](t)(l.Read(ctx, access, consent.Browsing))

		pruned := must[consent.Pruned](t)(l.Prune(ctx, consent.Retention{}))
		// Pages: the stale one and the old visitor's; codes: the expired visitor code
		// and the used link code; the old visitor's link; the old read.
		if want := (consent.Pruned{PageViews: 2, Codes: 2, VisitorLinks: 1, AccessLog: 1}); pruned != want {
			t.Fatalf("pruned %+v, want %+v", pruned, want)
		}
		if again := must[consent.Pruned](t)(l.Prune(ctx, consent.Retention{})); again != (consent.Pruned{}) {
			t.Fatalf("a second prune found %+v", again)
		}
		// What stays still works: the unused link code, the live visitor code (its
		// link and new page views by it), the fresh pages, the recent log.
		noErr(t, l.AddPageVisits(ctx, "acme", []consent.PageVisit{{VisitorHash: "h-visit", URL: "https://acme.test/later", At: now}}))
		view := must[*consent.View](t)(l.Read(ctx, access, consent.Browsing))
		if len(view.Pages) != 3 {
			t.Fatalf("pages after pruning: %+v", view.Pages)
		}
		if kind := must[string](t)(redeem(l, "h-unused")); kind != consent.CodeLink {
			t.Fatalf("the unused link code after pruning: %q", kind)
		}
		// Older than the browsing window: gone, as the gate sees with its clock turned back.
		clock = now.Add(-35 * day)
		for _, p := range must[*consent.View](t)(l.Read(ctx, access, consent.Browsing)).Pages {
			if p.At.Before(now.Add(-30 * day)) {
				t.Fatalf("a page view from %s survived", p.At)
			}
		}
		clock = now
		for _, e := range must[[]consent.AccessEntry](t)(l.AccessLog(ctx, alice)) {
			if e.At.Before(now.Add(-365 * day)) {
				t.Fatalf("an access-log entry from %s survived", e.At)
			}
		}

		// Shorter periods prune sooner.
		pruned = must[consent.Pruned](t)(l.Prune(ctx, consent.Retention{PageViews: time.Hour, AccessLog: time.Nanosecond}))
		if pruned.PageViews != 2 || pruned.AccessLog == 0 {
			t.Fatalf("with short periods pruned %+v", pruned)
		}
	})
}

// redeem redeems a code for alice and returns its kind ("" when refused).
func redeem(l *consent.Ledger, hash string) (string, error) {
	kind, _, err := l.Redeem(ctx, alice, hash)
	return kind, err
}
