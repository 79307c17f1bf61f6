package consent_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }

// eachDatabase runs a test on a fresh SQLite database and, unless -short, on a fresh
// PostgreSQL database, opened as the service opens them.
func eachDatabase(t *testing.T, fn func(t testing.TB, l *consent.Ledger)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openLedger(t, "sqlite")) })
	t.Run("postgres", func(t *testing.T) { fn(t, openLedger(t, "postgres")) })
}

func openLedger(t testing.TB, dbType string) *consent.Ledger {
	t.Helper()
	l := consent.NewLedger(dbtest.Open(t, dbType).Database)
	if err := l.Upgrade(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

var (
	ctx      = context.Background()
	alice    = consent.Subject{Tenant: "acme", UserID: "@alice:customer.test"}
	purposes = func() map[consent.Category]string {
		out := map[consent.Category]string{}
		for _, p := range consent.DefaultPurposes() {
			out[p.Category] = p.Purpose
		}
		return out
	}()
)

func grant(cs ...consent.Category) []consent.Change {
	var out []consent.Change
	for _, c := range cs {
		out = append(out, consent.Change{Category: c, Grant: true})
	}
	return out
}

func refuse(cs ...consent.Category) []consent.Change {
	var out []consent.Change
	for _, c := range cs {
		out = append(out, consent.Change{Category: c})
	}
	return out
}

func decisions(records []consent.Record) []string {
	var out []string
	for _, r := range records {
		out = append(out, string(r.Category)+"="+string(r.Decision))
	}
	return out
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecideRecordsOnlyChanges(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		recs := must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodPoll, purposes,
			append(grant(consent.Identity), refuse(consent.Location)...), false))
		if got := decisions(recs); !slices.Equal(got, []string{"identity=given", "location=refused"}) {
			t.Fatalf("first answer recorded %v", got)
		}
		// The same answer again changes nothing; a refusal of a grant is a withdrawal;
		// a grant of what was refused is given.
		recs = must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodText, purposes,
			append(grant(consent.Location), refuse(consent.Identity)...), false))
		if got := decisions(recs); !slices.Equal(got, []string{"location=given", "identity=withdrawn"}) {
			t.Fatalf("second answer recorded %v", got)
		}
		if recs = must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodText, purposes, grant(consent.Location), false)); len(recs) != 0 {
			t.Fatalf("repeating a grant recorded %v", decisions(recs))
		}
		state := must[map[consent.Category]consent.Decision](t)(l.State(ctx, alice, 1))
		if state[consent.Identity] != consent.Withdrawn || state[consent.Location] != consent.Given || len(state) != 2 {
			t.Fatalf("state %v", state)
		}
		// Another conversation starts with nothing decided.
		if state = must[map[consent.Category]consent.Decision](t)(l.State(ctx, alice, 2)); len(state) != 0 {
			t.Fatalf("conversation 2 inherited %v", state)
		}
		all := must[[]consent.Record](t)(l.Records(ctx, alice))
		if len(all) != 4 || all[0].ReceiptID == all[1].ReceiptID || all[0].Controller != "acme" || all[0].Subject != alice.UserID ||
			all[3].Method != consent.MethodText || all[0].Purpose == "" || all[0].Conversation != 1 || time.Since(all[0].At) > time.Minute {
			t.Fatalf("records %+v", all)
		}
		if _, err := l.Decide(ctx, alice, 1, consent.MethodText, purposes, grant("fingerprint"), false); err == nil {
			t.Fatal("a category without a purpose was recorded")
		}
	})
}

func TestRememberedChoicesBecomePolicies(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodPoll, purposes,
			append(grant(consent.Location), refuse(consent.Browsing)...), true))
		policies := must[map[consent.Category]consent.Policy](t)(l.Policies(ctx, alice))
		if policies[consent.Location] != consent.Always || policies[consent.Browsing] != consent.Never || len(policies) != 2 {
			t.Fatalf("policies %v", policies)
		}
		// Withdrawing without "remember" drops the standing grant back to ask.
		must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodText, purposes, refuse(consent.Location), false))
		if p := must[map[consent.Category]consent.Policy](t)(l.Policies(ctx, alice)); p[consent.Location] != consent.Ask || p[consent.Browsing] != consent.Never {
			t.Fatalf("after withdrawal: %v", p)
		}
		// Policies are per tenant.
		other := consent.Subject{Tenant: "globex", UserID: alice.UserID}
		if p := must[map[consent.Category]consent.Policy](t)(l.Policies(ctx, other)); len(p) != 0 {
			t.Fatalf("globex sees acme's policies: %v", p)
		}
	})
}

func TestCodesLinkIdentityAndBrowsing(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		if err := l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeLink, Hash: "h-link", AccountID: "A-1", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeLink, Hash: "h-old", AccountID: "A-1", ExpiresAt: time.Now().Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
		if identified := must[bool](t)(l.Identified(ctx, alice)); identified {
			t.Fatal("identified before any link")
		}
		for _, tc := range []struct {
			subject consent.Subject
			hash    string
			ok      bool
		}{
			{consent.Subject{Tenant: "globex", UserID: alice.UserID}, "h-link", false}, // another tenant's code
			{alice, "h-old", false},  // expired
			{alice, "h-none", false}, // unknown
			{alice, "h-link", true},
			{alice, "h-link", false}, // used
		} {
			kind, ok, err := l.Redeem(ctx, tc.subject, tc.hash)
			if err != nil || ok != tc.ok || (ok && kind != consent.CodeLink) {
				t.Fatalf("redeem %s at %s: %q %v %v", tc.hash, tc.subject.Tenant, kind, ok, err)
			}
		}
		if identified := must[bool](t)(l.Identified(ctx, alice)); !identified {
			t.Fatal("link code did not identify")
		}
		// Page views by an unknown visitor code are refused, all of them.
		err := l.AddPageVisits(ctx, "acme", []consent.PageVisit{{AccountID: "A-1", URL: "https://acme.test/a", At: time.Now()},
			{VisitorHash: "h-visit", URL: "https://acme.test/b", At: time.Now()}})
		if !errors.Is(err, consent.ErrUnknownVisitor) {
			t.Fatalf("unknown visitor: %v", err)
		}
		noErr(t, l.SaveCode(ctx, "acme", consent.Code{Kind: consent.CodeVisitor, Hash: "h-visit", ExpiresAt: time.Now().Add(time.Hour)}))
		noErr(t, l.AddPageVisits(ctx, "acme", []consent.PageVisit{
			{AccountID: "A-1", URL: "https://acme.test/mortgages/rates", Title: "Rates", At: time.Now().Add(-2 * time.Minute)},
			{VisitorHash: "h-visit", URL: "https://acme.test/cards", Title: "Cards", At: time.Now().Add(-time.Minute)},
			{AccountID: "A-2", URL: "https://acme.test/other", Title: "Someone else", At: time.Now()},
		}))
		must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodText, purposes, grant(consent.Browsing), false))
		view := must[*consent.View](t)(l.Read(ctx, consent.Access{Subject: alice, Conversation: 1, Reader: "test"}, consent.Browsing))
		if len(view.Pages) != 1 || view.Pages[0].Title != "Rates" {
			t.Fatalf("before the visitor code: %+v", view.Pages)
		}
		if kind, ok, err := l.Redeem(ctx, alice, "h-visit"); !ok || err != nil || kind != consent.CodeVisitor {
			t.Fatalf("visitor code: %q %v %v", kind, ok, err)
		}
		view = must[*consent.View](t)(l.Read(ctx, consent.Access{Subject: alice, Conversation: 1, Reader: "test"}, consent.Browsing))
		if len(view.Pages) != 2 || view.Pages[0].Title != "Cards" || view.Pages[1].Title != "Rates" {
			t.Fatalf("after the visitor code: %+v", view.Pages)
		}
	})
}
