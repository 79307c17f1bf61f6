package consent_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/consent"
)

// seed gives alice something behind every category: an account she is linked to,
// pages, and a location shared while granted.
func seed(t testing.TB, l *consent.Ledger, conversation int64) {
	noErr(t, l.UpsertCustomer(ctx, "acme", consent.Customer{AccountID: "A-1", Name: "Alice Liddell", Tier: "gold",
		Products: []string{"mortgage"}, AccountManager: "@carol:business.test", MatrixIDs: []string{alice.UserID}}))
	noErr(t, l.AddPageVisits(ctx, "acme", []consent.PageVisit{{AccountID: "A-1", URL: "https://acme.test/mortgages/rates", Title: "Rates", At: time.Now()}}))
	must[[]consent.Record](t)(l.Decide(ctx, alice, conversation, consent.MethodText, purposes, grant(consent.Location), false))
	noErr(t, l.ShareLocation(ctx, alice, conversation, consent.LocationView{GeoURI: "geo:38.7,-9.1;u=20", Lat: 38.7, Lon: -9.1, AccuracyM: 20, At: time.Now()}))
}

// visible lists the categories a view shows anything of.
func visible(v *consent.View) map[consent.Category]bool {
	out := map[consent.Category]bool{}
	if v.Identity != nil {
		out[consent.Identity] = true
	}
	if v.Account != nil {
		out[consent.Account] = true
	}
	if v.Location != nil {
		out[consent.Location] = true
	}
	if len(v.Pages) > 0 {
		out[consent.Browsing] = true
	}
	return out
}

var contextCategories = []consent.Category{consent.Identity, consent.Account, consent.Location, consent.Browsing}

func TestGateShowsOnlyWhatIsGranted(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		seed(t, l, 1)
		access := consent.Access{Subject: alice, Conversation: 2, Reader: "@carol:business.test"}
		read := func() map[consent.Category]bool {
			return visible(must[*consent.View](t)(l.Read(ctx, access, contextCategories...)))
		}
		// Conversation 2: nothing decided yet, so nothing at all, although every
		// category has data (location was granted in conversation 1 only).
		if got := read(); len(got) != 0 {
			t.Fatalf("before consent: %v", got)
		}
		for _, c := range contextCategories {
			t.Logf("category %s", c)
			must[[]consent.Record](t)(l.Decide(ctx, alice, 2, consent.MethodText, purposes, refuse(c), false))
			if got := read(); got[c] {
				t.Fatalf("%s refused but visible", c)
			}
			must[[]consent.Record](t)(l.Decide(ctx, alice, 2, consent.MethodPoll, purposes, grant(c), false))
			if got := read(); !got[c] || len(got) != 1 {
				t.Fatalf("%s granted: visible %v", c, got)
			}
			must[[]consent.Record](t)(l.Decide(ctx, alice, 2, consent.MethodReaction, purposes, refuse(c), false))
			if got := read(); len(got) != 0 {
				t.Fatalf("%s withdrawn: visible %v", c, got)
			}
		}
		view := must[*consent.View](t)(l.Read(ctx, access, contextCategories...))
		if len(view.Granted) != 0 {
			t.Fatalf("granted after withdrawing all: %v", view.Granted)
		}
		// Withdrawing location forgot it: granting again shows nothing until shared again.
		must[[]consent.Record](t)(l.Decide(ctx, alice, 2, consent.MethodText, purposes, grant(consent.Location), false))
		if v := must[*consent.View](t)(l.Read(ctx, access, consent.Location)); v.Location != nil || !v.Granted[consent.Location] {
			t.Fatalf("location after withdrawal and new grant: %+v", v)
		}
	})
}

// TestAccessLogMatchesGrants changes grants between reads and checks the access log
// against the consent state of each moment, as the records tell it: every Read left
// one entry per category, a read let through was granted then, a denied one was not.
func TestAccessLogMatchesGrants(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		seed(t, l, 1)
		access := consent.Access{Subject: alice, Conversation: 1, Reader: "routing"}
		var want []bool
		for i, c := range append(contextCategories, contextCategories...) {
			must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodText, purposes, []consent.Change{{Category: c, Grant: i%3 != 0}}, false))
			state := must[map[consent.Category]consent.Decision](t)(l.State(ctx, alice, 1))
			view := must[*consent.View](t)(l.Read(ctx, access, contextCategories...))
			if !maps.Equal(view.Decisions, state) {
				t.Fatalf("the view's decisions %v, the state %v", view.Decisions, state)
			}
			for _, c := range contextCategories {
				want = append(want, state[c] == consent.Given)
				if visible(view)[c] && state[c] != consent.Given {
					t.Fatalf("read %s while %q", c, state[c])
				}
			}
		}
		entries := must[[]consent.AccessEntry](t)(l.AccessLog(ctx, alice))
		if len(entries) != len(want) {
			t.Fatalf("%d reads, %d log entries", len(want), len(entries))
		}
		for i, e := range entries {
			if e.Granted != want[i] || e.Reader != "routing" || e.Category != contextCategories[i%len(contextCategories)] || e.Conversation != 1 {
				t.Fatalf("log entry %d: %+v, granted then: %v", i, e, want[i])
			}
		}
	})
}

func TestLocationNeedsGrant(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		loc := consent.LocationView{GeoURI: "geo:1,2", Lat: 1, Lon: 2, At: time.Now()}
		if err := l.ShareLocation(ctx, alice, 1, loc); !errors.Is(err, consent.ErrNotGranted) {
			t.Fatalf("share without grant: %v", err)
		}
		must[[]consent.Record](t)(l.Decide(ctx, alice, 1, consent.MethodText, purposes, grant(consent.Location), false))
		if v := must[*consent.View](t)(l.Read(ctx, consent.Access{Subject: alice, Conversation: 1, Reader: "test"}, consent.Location)); v.Location != nil {
			t.Fatalf("a location refused earlier was stored: %+v", v.Location)
		}
	})
}

func TestTenantsAreIsolated(t *testing.T) {
	eachDatabase(t, func(t testing.TB, l *consent.Ledger) {
		seed(t, l, 1)
		globex := consent.Subject{Tenant: "globex", UserID: alice.UserID}
		must[[]consent.Record](t)(l.Decide(ctx, globex, 1, consent.MethodText, purposes, grant(contextCategories...), false))
		view := must[*consent.View](t)(l.Read(ctx, consent.Access{Subject: globex, Conversation: 1, Reader: "test"}, contextCategories...))
		if got := visible(view); len(got) != 0 {
			t.Fatalf("globex reads acme's context: %v", got)
		}
		if ids := must[bool](t)(l.Identified(ctx, globex)); ids {
			t.Fatal("identified at globex through acme's link")
		}
	})
}

// BenchmarkGateRead is one gate check with its access-log write: a location read,
// granted, in its own transaction.
func BenchmarkGateRead(b *testing.B) {
	for _, dbType := range []string{"sqlite", "postgres"} {
		b.Run(dbType, func(b *testing.B) {
			l := openLedger(b, dbType)
			seed(b, l, 1)
			access := consent.Access{Subject: alice, Conversation: 1, Reader: "bench"}
			for b.Loop() {
				if _, err := l.Read(ctx, access, consent.Location); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
