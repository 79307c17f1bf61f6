package bridge

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// Routing as the bridge runs it. The database is the truth (statuses, loads, offers,
// assignments); each tenant's routing.Router is a cache of it. The cache learns a
// change only once its transaction has committed (afterCommit), and is re-read whole
// from the database at start and on every tick of the routing loop, which is how a
// change made by another replica arrives. A claim (offer or assignment) is one
// database transaction that re-checks the conversation and the agent's capacity, so
// a stale cache costs at most a lost claim: two replicas never both win one
// conversation or one agent's last place.

// routedPerPass bounds how many waiting conversations one pass looks at.
const routedPerPass = 100

// taskOf is the conversation as routing sees it: the attributes its customer's
// consent allows (written by updateCard through the gate), its age and priority.
func taskOf(conv *database.Conversation) *routing.Task {
	task := &routing.Task{}
	if conv.Task != "" {
		_ = json.Unmarshal([]byte(conv.Task), task) // written by us; a bad row routes as unknown
	}
	task.ID, task.EnqueuedAt = strconv.FormatInt(conv.ID, 10), conv.OpenedAt
	return task
}

// taskFromView derives the routing attributes from what the gate let through: a
// category not granted leaves its attributes unknown.
func (t *Tenant) taskFromView(view *consent.View) *routing.Task {
	task := &routing.Task{Anonymous: view.Identity == nil}
	if a := view.Account; a != nil {
		task.Tier, task.AccountManager = a.Tier, a.AccountManager
	}
	if l := view.Location; l != nil {
		if r, ok := contextmap.RegionOf(t.Regions, contextmap.Point{Lat: l.Lat, Lon: l.Lon}); ok {
			task.Region, task.Language = r.Name, r.Language
		}
	}
	if len(view.Pages) > 0 {
		urls := make([]string, len(view.Pages))
		for i, p := range view.Pages {
			urls[i] = p.URL
		}
		task.Topics = contextmap.Topics(t.Topics, urls)
	}
	return task
}

// storeTask records the conversation's routing attributes and priority.
func (c *convo) storeTask(ctx context.Context, task *routing.Task) error {
	data, err := json.Marshal(task)
	if err != nil {
		return err
	}
	priority := c.t.router.Workflow().TaskPriority(task)
	return c.b.DB.Conversation.SetTask(ctx, c.ID, string(data), priority)
}

// syncRouter brings the tenant's router in line with the database, every agent of
// the tenant: three tenant-wide reads and a pass over the staff. It runs at start and
// on the routing loop's tick, never on a routing pass of its own.
func (b *Bridge) syncRouter(ctx context.Context, t *Tenant) error {
	records, err := b.DB.Staff.OfTenant(ctx, t.ID)
	if err != nil {
		return err
	}
	status := make(map[id.UserID]routing.Status, len(records))
	for _, r := range records {
		if r.ControlRoomID != "" {
			status[r.UserID] = r.Status
		}
	}
	load, err := b.DB.Participants.ActiveLoad(ctx, t.ID)
	if err != nil {
		return err
	}
	offers, err := b.DB.Conversation.OpenOffers(ctx, t.ID)
	if err != nil {
		return err
	}
	now := b.now()
	for _, s := range t.staff() {
		if s.Role != routing.RoleAgent {
			continue
		}
		u := id.UserID(s.UserID)
		st, ok := status[u]
		if !ok {
			st = routing.Offline // no control room yet: cannot be offered anything
		}
		offer := ""
		if convID, ok := offers[u]; ok {
			offer = strconv.FormatInt(convID, 10)
		}
		if err = firstErr(t.router.SetStatus(s.UserID, st, now), t.router.SetLoad(s.UserID, load[u], now),
			t.router.SyncOffer(s.UserID, offer, now)); err != nil {
			return err
		}
	}
	return nil
}

// offerWaiting asks for a routing pass of the tenant once the transaction under way
// commits, so that the pass sees what changed the picture (a new conversation, an
// agent becoming ready, an answer, an end) in the database and in the router. Several
// asks in one transaction make one pass. Outside a transaction started by
// commitWithAfter the pass runs at once, inside the caller's transaction, and its
// error is the caller's.
func (b *Bridge) offerWaiting(ctx context.Context, t *Tenant) error {
	if afterCommitListOf(ctx) == nil {
		_, err := b.routePass(ctx, t)
		return err
	}
	b.afterCommitOnce(ctx, "route|"+t.ID, func(ctx context.Context) { b.routeTenant(ctx, t) })
	return nil
}

// morePassesAtMost bounds the passes routeTenant runs in a row.
const morePassesAtMost = 10

// routeTenant routes the tenant's waiting conversations now, outside any transaction:
// a pass, and more while a pass left conversations that agents it assigned may still
// take. A failure is logged: what asked for the pass has committed, and the tick
// routes again.
func (b *Bridge) routeTenant(ctx context.Context, t *Tenant) {
	for range morePassesAtMost {
		again, err := b.routePass(ctx, t)
		if err != nil {
			if ctx.Err() == nil {
				zerolog.Ctx(ctx).Warn().Err(err).Str("tenant", t.ID).Msg("Could not route waiting conversations")
			}
			return
		}
		if !again {
			return
		}
	}
}

// routePass is one routing pass of the tenant in a transaction of its own; what it
// claimed reaches the router once that commits. again: it assigned conversations and
// left others, which the agents it assigned may take in a next pass.
func (b *Bridge) routePass(ctx context.Context, t *Tenant) (again bool, err error) {
	err = b.doTxn(ctx, func(ctx context.Context) error {
		again, err = b.routeWaiting(ctx, t)
		return err
	})
	return again, err
}

// routeWaiting routes the tenant's waiting conversations, highest priority and oldest
// first: for each, the workflow step its age gives, the agent the router picks there,
// and a claim. It reads only the waiting conversations and who passed on them: the
// agents' state is the router's. An agent claimed in this pass is passed over for the
// rest of it, since the router learns of the claim only once the pass commits; so is
// one whose claim was lost (the cache was behind the database: the tick re-reads it).
func (b *Bridge) routeWaiting(ctx context.Context, t *Tenant) (again bool, err error) {
	waiting, err := b.DB.Conversation.Claimable(ctx, t.ID, routedPerPass)
	if err != nil {
		return false, err
	}
	declined, err := b.DB.Participants.Declined(ctx, t.ID)
	if err != nil {
		return false, err
	}
	outbound, err := b.DB.Outbound.Routing(ctx, t.ID)
	if err != nil {
		return false, err
	}
	now := b.now()
	var claimed []string
	assigned, left := false, false
	for _, conv := range waiting {
		c := t.convo(conv, nil)
		if held, err := c.heldForConsent(ctx, now); err != nil || held {
			if err != nil {
				return false, err
			}
			continue
		}
		task := taskOf(conv)
		except := claimed
		if passed := declined[conv.ID]; len(passed) > 0 {
			except = make([]string, 0, len(claimed)+len(passed))
			except = append(except, claimed...)
			for _, u := range passed {
				except = append(except, u.String())
			}
		}
		var decision routing.Decision
		var ok bool
		if r := outbound[conv.ID]; r != nil {
			decision, ok = t.selectOutbound(r, task, now, now.Sub(conv.OpenedAt), except)
		} else {
			step, _ := t.router.StepFor(task, now.Sub(conv.OpenedAt))
			decision, ok = t.router.SelectExcept(task, step, now, except)
		}
		if !ok {
			left = true
			continue
		}
		won, err := c.claim(ctx, decision)
		if err != nil {
			return false, err
		}
		claimed = append(claimed, decision.UserID)
		assigned = assigned || (won && t.router.Workflow().Direct)
		left = left || !won
	}
	return assigned && left, nil
}

// heldForConsent tells whether a new conversation still waits for the answer to its
// first consent prompt (at most the tenant's consent_wait).
func (c *convo) heldForConsent(ctx context.Context, now time.Time) (bool, error) {
	if c.t.ConsentWait <= 0 || now.Sub(c.OpenedAt) >= c.t.ConsentWait {
		return false, nil
	}
	prompt, err := c.b.DB.Prompts.Open(ctx, c.ID)
	return prompt != nil && prompt.Origin == promptOrigin(c.ID, 1), err
}

// claim offers the conversation to the chosen agent, or assigns it when the workflow
// says so, if the database still allows it; the side room learns why. won: the
// database took the claim; the router learns of it once the transaction commits.
func (c *convo) claim(ctx context.Context, decision routing.Decision) (won bool, err error) {
	b, t, now := c.b, c.t, c.b.now()
	agent := id.UserID(decision.UserID)
	state, ok := t.router.Agent(decision.UserID)
	if !ok {
		return false, nil
	}
	if t.router.Workflow().Direct {
		if won, err = b.DB.Conversation.Assign(ctx, t.ID, c.ID, agent, state.Capacity, now); err != nil || !won {
			return false, err
		}
		b.routerAssigned(ctx, t, agent, now)
		return true, firstErr(c.sideNotice(ctx, "routed", decision.Explanation), c.announceAssignment(ctx, agent, ""),
			c.outboundAccepted(ctx, agent))
	}
	if won, err = b.DB.Conversation.Offer(ctx, t.ID, c.ID, agent, state.Capacity, now); err != nil || !won {
		return false, err
	}
	b.routerOffered(ctx, t, agent, c.ID, now)
	return true, c.sendOffer(ctx, agent, decision, now)
}

// The router's changes, each applied once the transaction under way commits (see
// afterCommit): the database holds them by then, and a rollback leaves the router as
// it was. An agent the router does not know (taken off the config) has nothing to
// change.

// setStaffStatus records a staff member's status, and tells the router after commit.
func (b *Bridge) setStaffStatus(ctx context.Context, t *Tenant, agent id.UserID, st routing.Status, now time.Time) error {
	if err := firstErr(b.DB.Staff.SetStatus(ctx, t.ID, agent, st, now), b.logStatus(ctx, t, agent, string(st), now)); err != nil {
		return err
	}
	b.afterCommit(ctx, func(context.Context) { _ = t.router.SetStatus(agent.String(), st, now) })
	return nil
}

// routerAssigned: the agent took a conversation (claimed, accepted or transferred).
func (b *Bridge) routerAssigned(ctx context.Context, t *Tenant, agent id.UserID, now time.Time) {
	b.afterCommit(ctx, func(context.Context) { _ = t.router.Assigned(agent.String(), now) })
}

// routerReleased: a conversation of the agent ended or left them; their wrap-up starts.
func (b *Bridge) routerReleased(ctx context.Context, t *Tenant, agent id.UserID, now time.Time) {
	b.afterCommit(ctx, func(context.Context) { _ = t.router.Released(agent.String(), now) })
}

// routerOffered: the agent holds an offer of conversation convID now (0: none).
func (b *Bridge) routerOffered(ctx context.Context, t *Tenant, agent id.UserID, convID int64, now time.Time) {
	task := ""
	if convID != 0 {
		task = strconv.FormatInt(convID, 10)
	}
	b.afterCommit(ctx, func(context.Context) { _ = t.router.SyncOffer(agent.String(), task, now) })
}
