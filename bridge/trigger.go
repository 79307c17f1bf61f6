package bridge

import (
	"context"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

// Context triggers. When the tenant's site reports page views or a customer record,
// the tenant's trigger rules are evaluated for the customers they concern, on the
// replica that took the request. A rule is looked at only for a customer whose
// standing choice is "always" for contact and for every category the rule reads; only
// then is that context read, through the gate's standing read, which logs the access
// under the rule's name. A rule that fires proposes the customer to its agent in
// their control room (!reach or !pass), at most once per cooldown: the proposal is
// stored under the customer's lock, so concurrent reports propose once.

// triggerStore is the context API's store: what the ledger stores, and then the
// triggers evaluated for the customers it concerns. Evaluating never fails the
// request: what was stored stays stored.
type triggerStore struct {
	contextapi.LedgerStore
	b *Bridge
}

// contextStore is the store the context API writes through.
func (b *Bridge) contextStore() contextapi.Store {
	return triggerStore{LedgerStore: contextapi.LedgerStore{Ledger: b.Consent}, b: b}
}

func (s triggerStore) UpsertCustomer(ctx context.Context, tenantID string, c contextapi.Customer) error {
	if err := s.LedgerStore.UpsertCustomer(ctx, tenantID, c); err != nil {
		return err
	}
	s.b.contextArrived(ctx, tenantID, []string{c.AccountID}, nil)
	return nil
}

func (s triggerStore) AddPageViews(ctx context.Context, tenantID string, views []contextapi.PageView) error {
	if err := s.LedgerStore.AddPageViews(ctx, tenantID, views); err != nil {
		return err
	}
	var accounts, visitors []string
	for _, v := range views {
		if v.AccountID != "" && !slices.Contains(accounts, v.AccountID) {
			accounts = append(accounts, v.AccountID)
		}
		if v.VisitorCodeHash != "" && !slices.Contains(visitors, v.VisitorCodeHash) {
			visitors = append(visitors, v.VisitorCodeHash)
		}
	}
	s.b.contextArrived(ctx, tenantID, accounts, visitors)
	return nil
}

// contextArrived evaluates the tenant's triggers for the customers behind accounts
// and visitor codes (by hash) whose context just changed. A tenant without triggers
// costs nothing; failures are logged.
func (b *Bridge) contextArrived(ctx context.Context, tenantID string, accounts, visitors []string) {
	t := b.TenantByID(tenantID)
	if t == nil || len(t.Triggers) == 0 {
		return
	}
	log := b.Log.With().Str("component", "triggers").Str("tenant", tenantID).Logger()
	ctx = log.WithContext(ctx)
	rules, err := t.ContactTriggers()
	if err != nil {
		log.Warn().Err(err).Msg("The tenant's triggers do not compile")
		return
	}
	var customers []string
	for _, account := range accounts {
		ids, err := b.Consent.MatrixIDsOf(ctx, tenantID, account)
		if err != nil {
			log.Warn().Err(err).Msg("Could not find the customers of an account")
			return
		}
		customers = append(customers, ids...)
	}
	for _, hash := range visitors {
		subject, err := b.Consent.SubjectOfVisitor(ctx, tenantID, hash)
		if err != nil {
			log.Warn().Err(err).Msg("Could not find the customer of a visitor code")
			return
		}
		if subject != "" {
			customers = append(customers, subject)
		}
	}
	slices.Sort(customers)
	for _, customer := range slices.Compact(customers) {
		if err = b.evaluateTriggers(ctx, t, rules, customer); err != nil {
			log.Warn().Err(err).Msg("Could not evaluate the triggers for a customer")
		}
	}
}

// evaluateTriggers looks at each rule for one customer and proposes them for every
// rule that fires.
func (b *Bridge) evaluateTriggers(ctx context.Context, t *Tenant, rules []*outbound.Rule, customer string) error {
	s := subjectOf(t, id.UserID(customer))
	choices, err := b.Consent.StandingChoices(ctx, s)
	if err != nil {
		return err
	}
	standing := map[string]bool{}
	for c, choice := range choices {
		standing[string(c)] = choice.Policy == consent.Always
	}
	if !standing[outbound.CategoryContact] {
		return nil // nothing is read of a customer who did not agree to be contacted
	}
	if open, err := b.DB.Conversation.OpenOfCustomer(ctx, t.ID, id.UserID(customer)); err != nil || open != nil {
		return err // they are talking with the tenant now: nothing to propose
	}
	now := b.now()
	for _, rule := range rules {
		last, err := b.DB.Proposals.LastProposed(ctx, t.ID, rule.Name, customer)
		if err != nil {
			return err
		}
		// Whether the rule may look at all, before reading anything.
		if pre := rule.Evaluate(outbound.Facts{Now: now, Standing: standing, LastProposed: last}); len(pre.Missing) > 0 || pre.CoolingDown {
			continue
		}
		facts, name, err := b.triggerFacts(ctx, t, rule, s, now)
		if err != nil {
			return err
		}
		facts.LastProposed = last
		if !rule.Evaluate(facts).Fire {
			continue
		}
		if err = b.propose(ctx, t, rule, customer, name, facts); err != nil {
			return err
		}
	}
	return nil
}

// triggerFacts reads, through the gate's standing read, the categories a rule needs
// (and identity, for the customer's name, when it is standing too), and returns them
// as the rule's facts with the name staff are to see.
func (b *Bridge) triggerFacts(ctx context.Context, t *Tenant, rule *outbound.Rule, s consent.Subject, now time.Time) (outbound.Facts, string, error) {
	var categories []consent.Category
	for _, c := range rule.Categories() {
		if c != outbound.CategoryContact {
			categories = append(categories, consent.Category(c))
		}
	}
	if !slices.Contains(categories, consent.Identity) {
		policies, err := b.Consent.Policies(ctx, s)
		if err != nil {
			return outbound.Facts{}, "", err
		}
		if policies[consent.Identity] == consent.Always {
			categories = append(categories, consent.Identity)
		}
	}
	view, err := b.Consent.ReadStanding(ctx, s, "trigger:"+rule.Name, categories...)
	if err != nil {
		return outbound.Facts{}, "", err
	}
	facts := outbound.Facts{Now: now, Standing: map[string]bool{outbound.CategoryContact: true}, Anonymous: view.Identity == nil}
	for c := range view.Granted {
		facts.Standing[string(c)] = true
	}
	if a := view.Account; a != nil {
		facts.Tier = a.Tier
	}
	if l := view.Location; l != nil {
		if r, ok := contextmap.RegionOf(t.Regions, contextmap.Point{Lat: l.Lat, Lon: l.Lon}); ok {
			facts.Region, facts.Language = r.Name, r.Language
		}
	}
	for _, p := range view.Pages {
		if topics := contextmap.Topics(t.Topics, []string{p.URL}); len(topics) > 0 {
			facts.Views = append(facts.Views, outbound.TopicView{Topic: topics[0], At: p.At})
		}
	}
	name := t.customerName(id.UserID(s.UserID))
	if view.Identity != nil && view.Identity.Name != "" {
		name = view.Identity.Name
	}
	return facts, name, nil
}

// propose stores a rule's proposal and tells its agent, under the customer's lock:
// of two reports at once, the second finds the first's proposal and keeps quiet.
func (b *Bridge) propose(ctx context.Context, t *Tenant, rule *outbound.Rule, customer, name string, facts outbound.Facts) error {
	log := zerolog.Ctx(ctx).With().Str("rule", rule.Name).Logger()
	if !t.isStaff(rule.Agent) {
		log.Warn().Str("agent", rule.Agent).Msg("A trigger fired for an agent who is not on the staff")
		return nil
	}
	member, err := b.DB.Staff.Get(ctx, t.ID, id.UserID(rule.Agent))
	if err != nil {
		return err
	}
	if member == nil || member.ControlRoomID == "" {
		log.Warn().Str("agent", rule.Agent).Msg("A trigger fired for an agent without a control room yet")
		return nil
	}
	return b.doTxn(ctx, func(ctx context.Context) error {
		if err := b.DB.Outbound.LockCustomer(ctx, t.ID, customer); err != nil {
			return err
		}
		last, err := b.DB.Proposals.LastProposed(ctx, t.ID, rule.Name, customer)
		if err != nil {
			return err
		}
		facts.LastProposed = last
		if !rule.Evaluate(facts).Fire {
			return nil
		}
		p := &database.Proposal{TenantID: t.ID, Rule: rule.Name, Customer: customer, Agent: rule.Agent, Reason: rule.Reason, ProposedAt: b.now()}
		if err = b.DB.Proposals.Add(ctx, p); err != nil {
			return err
		}
		log.Info().Int64("proposal", p.ID).Str("agent", rule.Agent).Msg("A trigger proposed contacting a customer")
		text := bot.ProposalText(p.ID, name, rule.Name, rule.Seen(facts), rule.Reason)
		return b.DB.Outbox.Enqueue(ctx, outboxKey("proposal", p.ID), member.ControlRoomID, t.UserID, event.EventMessage, bot.Notice(text), b.now())
	})
}

// isStaff tells whether a user is on the tenant's staff now.
func (t *Tenant) isStaff(userID string) bool {
	for _, s := range t.staff() {
		if s.UserID == userID {
			return true
		}
	}
	return false
}
