package database_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

func TestOutboundRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(time.Now().UnixMilli())
		reasons := []outbound.Reason{{Code: outbound.ReasonContactAlways, Text: "yes"}}
		r := &database.OutboundRequest{TenantID: "acme", TargetKind: database.TargetMatrixID, Target: "@alice:x.test",
			Customer: "@alice:x.test", Reason: "your loan", Agent: "@carol:b.test", Origin: database.OriginAPI,
			NotAfter: now.Add(time.Hour), State: outbound.StateRouting, Reasons: reasons, CreatedAt: now}
		if err := db.Outbound.Insert(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := db.Outbound.Get(ctx, "acme", r.ID)
		if err != nil || got == nil {
			t.Fatal(got, err)
		}
		if got.State != outbound.StateRouting || !got.RoutedAt.Equal(now) || !got.NotAfter.Equal(now.Add(time.Hour)) ||
			!got.NotBefore.IsZero() || got.Agent != "@carol:b.test" || got.Queue != "" || !slices.Equal(got.Reasons, reasons) {
			t.Errorf("stored %+v", got)
		}
		if other, err := db.Outbound.Get(ctx, "globex", r.ID); err != nil || other != nil {
			t.Errorf("another tenant reads the request: %v %v", other, err)
		}

		// Illegal changes are refused before the database is asked.
		if err = db.Outbound.Insert(ctx, &database.OutboundRequest{TenantID: "acme", State: outbound.StateJoined}); !errors.Is(err, outbound.ErrIllegalTransition) {
			t.Errorf("a new joined request: %v", err)
		}
		if _, err = db.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateRouting, To: outbound.StateDone, At: now}); !errors.Is(err, outbound.ErrIllegalTransition) {
			t.Errorf("routing → done: %v", err)
		}
		// A change from a state the request has left changes nothing.
		changed, err := db.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateInvited, To: outbound.StateJoined, At: now})
		if err != nil || changed {
			t.Errorf("stale change: %v %v", changed, err)
		}
		if n, err := db.Outbound.AddAttempt(ctx, r.ID, now); err != nil || n != 1 {
			t.Errorf("attempt: %d %v", n, err)
		}
		changed, err = db.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateRouting, To: outbound.StateBlocked,
			Error: "M_INVITE_BLOCKED", At: now.Add(time.Second)})
		if err != nil || !changed {
			t.Fatalf("routing → blocked: %v %v", changed, err)
		}
		got, _ = db.Outbound.Get(ctx, "acme", r.ID)
		if got.State != outbound.StateBlocked || got.LastError != "M_INVITE_BLOCKED" || got.Attempts != 1 || len(got.Reasons) != 0 {
			t.Errorf("after blocking: %+v", got)
		}
		// Blocked is final.
		if _, err = db.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateBlocked, To: outbound.StateRouting, At: now}); !errors.Is(err, outbound.ErrIllegalTransition) {
			t.Errorf("blocked → routing: %v", err)
		}
	})
}

func TestOutboundDueAndContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		base := time.UnixMilli(1_800_000_000_000)
		add := func(customer string, state outbound.State, created time.Time, until time.Time) *database.OutboundRequest {
			r := &database.OutboundRequest{TenantID: "acme", TargetKind: database.TargetMatrixID, Target: customer, Customer: customer,
				Reason: "r", Origin: database.OriginAPI, State: state, DeferUntil: until, CreatedAt: created}
			if err := db.Outbound.Insert(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		early := add("@a:x", outbound.StateDeferred, base, base.Add(time.Hour))
		add("@a:x", outbound.StateDeferred, base, base.Add(3*time.Hour))
		add("@a:x", outbound.StateRefused, base, time.Time{})
		routed := add("@a:x", outbound.StateRouting, base.Add(-2*time.Hour), time.Time{})
		failed := add("@a:x", outbound.StateRouting, base.Add(-time.Hour), time.Time{})
		add("@b:x", outbound.StateRouting, base, time.Time{})
		if _, err := db.Outbound.SetState(ctx, failed.ID, database.StateChange{From: outbound.StateRouting, To: outbound.StateFailed, At: base}); err != nil {
			t.Fatal(err)
		}
		due, err := db.Outbound.Due(ctx, base.Add(2*time.Hour), 10)
		if err != nil || len(due) != 1 || due[0].ID != early.ID {
			t.Fatalf("due: %v %v", due, err)
		}
		// The deferred one is allowed later: it counts from then.
		if _, err = db.Outbound.SetState(ctx, early.ID, database.StateChange{From: outbound.StateDeferred, To: outbound.StateRouting,
			At: base.Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		contacts, err := db.Outbound.Contacts(ctx, "acme", "@a:x", base.Add(-24*time.Hour))
		want := []time.Time{routed.CreatedAt, base.Add(2 * time.Hour)}
		if err != nil || !slices.EqualFunc(contacts, want, time.Time.Equal) {
			t.Errorf("contacts %v %v, want %v", contacts, err, want)
		}
		if contacts, _ = db.Outbound.Contacts(ctx, "acme", "@a:x", base); len(contacts) != 1 {
			t.Errorf("since base: %v", contacts)
		}
	})
}

func TestOutboundDecisions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		p, err := outbound.DefaultConfig().Compile()
		if err != nil {
			t.Fatal(err)
		}
		in := outbound.Input{Now: now, ContactPolicy: outbound.PolicyAlways, ProfileZone: "America/New_York", TenantZone: "Europe/Lisbon",
			Contacts: []time.Time{now.Add(-time.Hour)}}
		d := outbound.Decide(p, in)
		if d.Verdict != outbound.Deferred {
			t.Fatalf("%+v", d)
		}
		r := &database.OutboundRequest{TenantID: "acme", TargetKind: database.TargetMatrixID, Target: "@a:x", Customer: "@a:x",
			Reason: "r", Origin: database.OriginAPI, State: outbound.StateDeferred, Reasons: d.Reasons, DeferUntil: d.Until, CreatedAt: now}
		if err = db.Outbound.Insert(ctx, r); err != nil {
			t.Fatal(err)
		}
		stored := &database.StoredDecision{RequestID: r.ID, TenantID: "acme", Customer: "@a:x", Decision: d, Inputs: in, DecidedAt: now}
		dry := &database.StoredDecision{TenantID: "acme", Customer: "@a:x", Decision: d, Inputs: in, DryRun: true, DecidedAt: now}
		for _, s := range []*database.StoredDecision{stored, dry} {
			if err = db.OutboundDecisions.Insert(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		of, err := db.OutboundDecisions.OfRequest(ctx, r.ID)
		if err != nil || len(of) != 1 {
			t.Fatalf("%v %v", of, err)
		}
		got := of[0]
		if got.Decision.Verdict != d.Verdict || !got.Decision.Until.Equal(d.Until) || got.Decision.Zone != "America/New_York" ||
			got.Decision.ZoneSource != outbound.ZoneProfile || got.Decision.LocalTime != d.LocalTime ||
			!slices.Equal(got.Decision.Codes(), d.Codes()) || got.DryRun {
			t.Errorf("decision %+v, want %+v", got.Decision, d)
		}
		// The inputs come back whole: the decision can be made again from them.
		if again := outbound.Decide(p, got.Inputs); again.Verdict != d.Verdict || !again.Until.Equal(d.Until) {
			t.Errorf("decided again from the stored inputs: %+v", again)
		}
		all, err := db.OutboundDecisions.OfCustomer(ctx, "acme", "@a:x", 10)
		if err != nil || len(all) != 2 || !all[0].DryRun || all[0].RequestID != 0 {
			t.Errorf("of customer: %v %v", all, err)
		}
	})
}

func TestOutboundLockCustomer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		// Ten requests for one customer at once, each reading the contacts and
		// inserting only under the cap of 3: exactly 3 pass.
		ctx := context.Background()
		now := time.UnixMilli(time.Now().UnixMilli())
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Go(func() {
				errs <- db.DoTxn(ctx, nil, func(ctx context.Context) error {
					if err := db.Outbound.LockCustomer(ctx, "acme", "@a:x"); err != nil {
						return err
					}
					contacts, err := db.Outbound.Contacts(ctx, "acme", "@a:x", now.Add(-time.Hour))
					if err != nil || len(contacts) >= 3 {
						return err
					}
					return db.Outbound.Insert(ctx, &database.OutboundRequest{TenantID: "acme", TargetKind: database.TargetMatrixID,
						Target: "@a:x", Customer: "@a:x", Reason: "r", Origin: database.OriginAPI, State: outbound.StateRouting, CreatedAt: now})
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if contacts, err := db.Outbound.Contacts(ctx, "acme", "@a:x", now.Add(-time.Hour)); err != nil || len(contacts) != 3 {
			t.Errorf("%d contacts (%v), want 3", len(contacts), err)
		}
	})
}

func TestOutboundProposals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		if last, err := db.Proposals.LastProposed(ctx, "acme", "mortgage", "@a:x"); err != nil || !last.IsZero() {
			t.Fatalf("%v %v", last, err)
		}
		p := &database.Proposal{TenantID: "acme", Rule: "mortgage", Customer: "@a:x", Agent: "@carol:b", Reason: "r", ProposedAt: now}
		if err := db.Proposals.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
		if last, err := db.Proposals.LastProposed(ctx, "acme", "mortgage", "@a:x"); err != nil || !last.Equal(now) {
			t.Errorf("last %v %v", last, err)
		}
		if last, _ := db.Proposals.LastProposed(ctx, "globex", "mortgage", "@a:x"); !last.IsZero() {
			t.Error("another tenant's proposal counted")
		}
		if ok, err := db.Proposals.Answer(ctx, p.ID, database.ProposalDeclined, 0, now); err != nil || !ok {
			t.Fatalf("%v %v", ok, err)
		}
		if ok, _ := db.Proposals.Answer(ctx, p.ID, database.ProposalAccepted, 0, now); ok {
			t.Error("answered twice")
		}
		got, err := db.Proposals.Get(ctx, p.ID)
		if err != nil || got.Answer != database.ProposalDeclined || got.OutboundID != 0 {
			t.Errorf("%+v %v", got, err)
		}
	})
}

func TestStaffProfiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		seed := []routing.Staff{
			{UserID: "@carol:b", Name: "Carol", Role: routing.RoleAgent, Skills: map[string]int{"mortgage": 4}, Languages: []string{"en"},
				Capacity: 3, WrapUp: routing.Duration(30 * time.Second)},
			{UserID: "@sam:b", Name: "Sam", Role: routing.RoleSupervisor},
		}
		if n, err := db.StaffProfiles.Seed(ctx, "acme", seed, now); err != nil || n != 2 {
			t.Fatalf("seed: %d %v", n, err)
		}
		v1, _ := db.StaffProfiles.Version(ctx, "acme")
		list, err := db.StaffProfiles.OfTenant(ctx, "acme")
		if err != nil || len(list) != 2 || list[0].UserID != "@carol:b" || list[0].Skills["mortgage"] != 4 ||
			list[0].WrapUp != routing.Duration(30*time.Second) || list[0].Source != "config" || list[1].Skills == nil {
			t.Fatalf("%+v %v", list, err)
		}
		// Changed through the API: the config's seed no longer overwrites it.
		carol := list[0]
		carol.Capacity, carol.Voice, carol.UpdatedAt = 5, true, now.Add(time.Second)
		if err = db.StaffProfiles.Put(ctx, carol); err != nil {
			t.Fatal(err)
		}
		if carol.Version <= v1 || carol.Source != "api" {
			t.Errorf("version %d after %d, source %s", carol.Version, v1, carol.Source)
		}
		removed, err := db.StaffProfiles.Remove(ctx, "acme", "@sam:b", now.Add(2*time.Second))
		if err != nil || !removed {
			t.Fatalf("remove: %v %v", removed, err)
		}
		if again, _ := db.StaffProfiles.Remove(ctx, "acme", "@sam:b", now); again {
			t.Error("removed twice")
		}
		if n, err := db.StaffProfiles.Seed(ctx, "acme", seed, now.Add(3*time.Second)); err != nil || n != 0 {
			t.Errorf("seed again: %d %v", n, err)
		}
		list, _ = db.StaffProfiles.OfTenant(ctx, "acme")
		if len(list) != 1 || list[0].Capacity != 5 || !list[0].Voice {
			t.Errorf("after seeding again: %+v", list)
		}
		sam, _ := db.StaffProfiles.Get(ctx, "acme", "@sam:b")
		if sam == nil || sam.RemovedAt.IsZero() {
			t.Errorf("sam: %+v", sam)
		}
		v2, _ := db.StaffProfiles.Version(ctx, "acme")
		if v2 <= carol.Version {
			t.Errorf("version %d after removal, %d before", v2, carol.Version)
		}
		// Put back through the API.
		sam.UpdatedAt = now.Add(4 * time.Second)
		if err = db.StaffProfiles.Put(ctx, sam); err != nil {
			t.Fatal(err)
		}
		if list, _ = db.StaffProfiles.OfTenant(ctx, "acme"); len(list) != 2 {
			t.Errorf("after putting back: %d", len(list))
		}
		if other, _ := db.StaffProfiles.OfTenant(ctx, "globex"); len(other) != 0 {
			t.Errorf("globex: %v", other)
		}
	})
}

func TestTenantWorkflows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		if w, err := db.Workflows.Get(ctx, "acme"); err != nil || w != nil {
			t.Fatal(w, err)
		}
		w, err := db.Workflows.Put(ctx, "acme", "steps: [{queue: a}]", now)
		if err != nil || w.Version != 1 {
			t.Fatal(w, err)
		}
		if w, err = db.Workflows.Put(ctx, "acme", "steps: [{queue: b}]", now.Add(time.Second)); err != nil || w.Version != 2 ||
			w.Source != "steps: [{queue: b}]" || !w.UpdatedAt.Equal(now.Add(time.Second)) {
			t.Errorf("%+v %v", w, err)
		}
	})
}

func TestAdminKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		v0, _ := db.AdminKeys.Version(ctx)
		keys := map[string]*database.AdminKey{
			"sha256:aa": {Scope: database.ScopeTenant, TenantID: "acme", Label: "acme"},
			"sha256:bb": {Scope: database.ScopeProvider, Label: "provider"},
		}
		if err := db.AdminKeys.SyncConfig(ctx, keys, now); err != nil {
			t.Fatal(err)
		}
		active, err := db.AdminKeys.Active(ctx)
		if err != nil || len(active) != 2 || active[0].TenantID != "acme" || active[1].Scope != database.ScopeProvider {
			t.Fatalf("%+v %v", active, err)
		}
		v1, _ := db.AdminKeys.Version(ctx)
		if v1 == v0 {
			t.Error("version did not change")
		}
		// The config drops a key: it is revoked, and listing it again does not revive it.
		delete(keys, "sha256:aa")
		if err = db.AdminKeys.SyncConfig(ctx, keys, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if active, _ = db.AdminKeys.Active(ctx); len(active) != 1 || active[0].Hash != "sha256:bb" {
			t.Errorf("after dropping: %+v", active)
		}
		if v2, _ := db.AdminKeys.Version(ctx); v2 == v1 {
			t.Error("version did not change on revocation")
		}
		keys["sha256:aa"] = &database.AdminKey{Scope: database.ScopeTenant, TenantID: "acme"}
		_ = db.AdminKeys.SyncConfig(ctx, keys, now.Add(2*time.Second))
		if k, _ := db.AdminKeys.Get(ctx, "sha256:aa"); k == nil || k.RevokedAt.IsZero() {
			t.Errorf("revived: %+v", k)
		}
		// A key given to another tenant in the config is revoked, not moved.
		keys["sha256:bb"] = &database.AdminKey{Scope: database.ScopeTenant, TenantID: "globex"}
		_ = db.AdminKeys.SyncConfig(ctx, keys, now.Add(3*time.Second))
		if active, _ = db.AdminKeys.Active(ctx); len(active) != 0 {
			t.Errorf("moved key still active: %+v", active)
		}
	})
}

func TestRevealAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		for _, r := range []*database.Reveal{
			{TenantID: "acme", RequestedBy: "abuse desk", Subject: "Visitor 4F2A", Reason: "spam report 17", Customer: "@bob:x",
				ConversationID: 4, Outcome: database.RevealFound, RequestedAt: now},
			{TenantID: "acme", RequestedBy: "abuse desk", Subject: "Visitor 0000", Reason: "typo", Outcome: database.RevealNotFound, RequestedAt: now},
		} {
			if err := db.Reveals.Add(ctx, r); err != nil || r.ID == 0 {
				t.Fatal(r.ID, err)
			}
		}
		list, err := db.Reveals.OfTenant(ctx, "acme")
		if err != nil || len(list) != 2 || list[0].Customer != "@bob:x" || list[0].ConversationID != 4 || list[1].Customer != "" ||
			list[1].Outcome != database.RevealNotFound {
			t.Errorf("%+v %v", list, err)
		}
	})
}
