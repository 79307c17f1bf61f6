package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

const mortgageRule = "mortgage-interest"

// withMortgageTrigger gives ACME a trigger that proposes to Dave a customer who viewed
// mortgage pages three times within a day, cooling down for a second only (the test
// proposes the same customer again).
func withMortgageTrigger(cfg *config.Config) {
	acme := cfg.TenantByID("acme")
	acme.Topics = []contextmap.TopicRule{{Pattern: "/mortgages", Topic: "mortgage"}}
	acme.Triggers = []outbound.RuleConfig{{Name: mortgageRule, When: "mortgage >= 3", Reason: "They may want advice on a mortgage.",
		Agent: "@dave:" + cfg.Homeserver.Domain, Cooldown: routing.Duration(time.Second)}}
}

// TestOutboundTrigger: page views reach ACME's trigger. A customer who remembered
// contact but not browsing, and one who remembered browsing but not contact, are never
// proposed (and nothing of their browsing is read); one who remembered both is
// proposed to Dave, the rule's agent, in his control room, and to nobody else. Dave
// passes; after the customer withdraws browsing nothing is proposed any more, and
// once they share it for good again the next views propose them again; Dave reaches
// out, which makes an outbound request offered to him only.
func TestOutboundTrigger(t *testing.T) {
	keys, adminKeys := map[string]string{}, map[string]string{}
	tm := newTeam(t, "sqlite", withAPIKeys(keys), withAdminKeys(adminKeys), withMortgageTrigger)
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)

	contactOnly, browsingOnly, both := "@contactonly:remote.example", "@browsingonly:remote.example", "@both:remote.example"
	for i, c := range []struct {
		customer          string
		contact, browsing consent.Policy
	}{{contactOnly, consent.Always, consent.Ask}, {browsingOnly, consent.Ask, consent.Always}, {both, consent.Always, consent.Always}} {
		s := consent.Subject{Tenant: "acme", UserID: c.customer}
		for cat, p := range map[consent.Category]consent.Policy{consent.Contact: c.contact, consent.Browsing: c.browsing} {
			if err := d.Service.Consent.SetPolicy(ctx, s, cat, p); err != nil {
				t.Fatal(err)
			}
		}
		mustAPI(t, d, keys["acme"], http.MethodPut, fmt.Sprintf("customers/T-%d", i), map[string]any{"matrix_ids": []string{c.customer}})
	}
	// Three mortgage pages each. The triggers run before the API answers, so what is
	// proposed is known once it has.
	views := func(account string) {
		t.Helper()
		var list []any
		for _, page := range []string{"fixed", "variable", "rates"} {
			list = append(list, map[string]any{"account_id": account, "url": "https://acme.test/mortgages/" + page})
		}
		mustAPI(t, d, keys["acme"], http.MethodPost, "pageviews", map[string]any{"views": list})
	}
	views("T-0")
	views("T-1")
	views("T-2")
	proposals := func(customer string) []*database.Proposal {
		t.Helper()
		rows, err := d.Service.DB.Query(ctx, `SELECT id FROM outbound_proposal WHERE customer_mxid = $1 ORDER BY id`, customer)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []*database.Proposal
		for rows.Next() {
			var pid int64
			if err = rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			p, err := d.Service.DB.Proposals.Get(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	for _, c := range []string{contactOnly, browsingOnly} {
		if got := proposals(c); len(got) != 0 {
			t.Errorf("%s was proposed without both consents: %+v", c, got[0])
		}
		if n := triggerReads(t, d, c); n != 0 {
			t.Errorf("the trigger read %d categories of %s, who did not consent to both", n, c)
		}
	}
	got := proposals(both)
	if len(got) != 1 || got[0].Agent != tm.dave.UserID.String() || got[0].Rule != mortgageRule || got[0].Answer != "" {
		t.Fatalf("proposals of the customer with both consents: %+v", got)
	}
	if n := triggerReads(t, d, both); n == 0 {
		t.Error("the trigger's read of browsing is not in the access log")
	}
	first := got[0]
	offer := waitEvent(t, tm.dave, tm.control[tm.dave.UserID], "the proposal to Dave", bodyIs(acme, fmt.Sprintf("**Proposal %d**", first.ID)))
	body := offer.Content.AsMessage().Body
	if !strings.Contains(body, "viewed mortgage pages 3 times") || !strings.Contains(body, "advice on a mortgage") || strings.Contains(body, both) {
		t.Errorf("the proposal does not say what and why, or names the Matrix ID: %s", body)
	}
	if n := countMatching(tm.carol, tm.control[tm.carol.UserID], bodyIs(acme, "**Proposal")); n != 0 {
		t.Errorf("Carol got %d proposals of Dave's rule", n)
	}
	tm.say(t, tm.dave, acme, fmt.Sprintf("!reach %d", first.ID+100), "No proposal")
	tm.say(t, tm.dave, acme, fmt.Sprintf("!pass %d", first.ID), "let go")

	// Browsing withdrawn for good: nothing more is proposed, nothing read.
	time.Sleep(1100 * time.Millisecond) // past the rule's cooldown
	s := consent.Subject{Tenant: "acme", UserID: both}
	if err := d.Service.Consent.SetPolicy(ctx, s, consent.Browsing, consent.Never); err != nil {
		t.Fatal(err)
	}
	reads := triggerReads(t, d, both)
	views("T-2")
	if got = proposals(both); len(got) != 1 {
		t.Fatalf("proposed after browsing was withdrawn: %d proposals", len(got))
	}
	if n := triggerReads(t, d, both); n != reads {
		t.Errorf("the trigger read %d more categories after browsing was withdrawn", n-reads)
	}
	// Shared for good again: the next views propose again, and Dave reaches out.
	if err := d.Service.Consent.SetPolicy(ctx, s, consent.Browsing, consent.Always); err != nil {
		t.Fatal(err)
	}
	views("T-2")
	if got = proposals(both); len(got) != 2 {
		t.Fatalf("proposals once browsing is shared again: %d, want 2", len(got))
	}
	second := got[1]
	waitEvent(t, tm.dave, tm.control[tm.dave.UserID], "the second proposal", bodyIs(acme, fmt.Sprintf("**Proposal %d**", second.ID)))
	tm.say(t, tm.dave, acme, "!ready", "You are now **ready**")
	tm.say(t, tm.dave, acme, fmt.Sprintf("!reach %d", second.ID), "became outbound request")
	p, err := d.Service.DB.Proposals.Get(ctx, second.ID)
	if err != nil || p.Answer != database.ProposalAccepted || p.OutboundID == 0 {
		t.Fatalf("the answered proposal: %+v %v", p, err)
	}
	r, err := d.Service.DB.Outbound.Get(ctx, "acme", p.OutboundID)
	if err != nil || r.Origin != database.OriginTrigger || r.Agent != tm.dave.UserID.String() || r.State != outbound.StateRouting {
		t.Fatalf("the request the proposal made: %+v %v", r, err)
	}
	waitEvent(t, tm.dave, tm.control[tm.dave.UserID], "the outbound offer to Dave", bodyIs(acme, "**Outbound contact**"))
	tm.say(t, tm.dave, acme, fmt.Sprintf("!reach %d", second.ID), "already answered")
	if n := countMatching(tm.carol, tm.control[tm.carol.UserID], bodyIs(acme, "**Outbound contact**")); n != 0 {
		t.Errorf("Carol was offered Dave's outbound request")
	}
}

// triggerReads counts the access-log entries the triggers wrote for a customer.
func triggerReads(t *testing.T, d *deploy.Deployment, customer string) int {
	t.Helper()
	log, err := d.Service.Consent.AccessLog(context.Background(), consent.Subject{Tenant: "acme", UserID: customer})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range log {
		if strings.HasPrefix(e.Reader, "trigger:") {
			n++
		}
	}
	return n
}
