package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
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
func (b *Bridge) storeTask(ctx context.Context, t *Tenant, conv *database.Conversation, task *routing.Task) error {
	data, err := json.Marshal(task)
	if err != nil {
		return err
	}
	priority := t.router.Workflow().TaskPriority(task)
	return b.DB.Conversation.SetTask(ctx, conv.ID, string(data), priority)
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
	for _, s := range t.Staff {
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
	waiting, err := b.DB.Claims.Waiting(ctx, t.ID, routedPerPass)
	if err != nil {
		return false, err
	}
	declined, err := b.DB.Participants.Declined(ctx, t.ID)
	if err != nil {
		return false, err
	}
	now := b.now()
	var claimed []string
	assigned, left := false, false
	for _, conv := range waiting {
		if held, err := b.heldForConsent(ctx, t, conv, now); err != nil || held {
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
		step, _ := t.router.StepFor(task, now.Sub(conv.OpenedAt))
		decision, ok := t.router.SelectExcept(task, step, now, except)
		if !ok {
			left = true
			continue
		}
		won, err := b.claim(ctx, t, conv, decision)
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
func (b *Bridge) heldForConsent(ctx context.Context, t *Tenant, conv *database.Conversation, now time.Time) (bool, error) {
	if t.ConsentWait <= 0 || now.Sub(conv.OpenedAt) >= t.ConsentWait {
		return false, nil
	}
	prompt, err := b.DB.Prompts.Open(ctx, conv.ID)
	return prompt != nil && prompt.Origin == promptOrigin(conv.ID, 1), err
}

// claim offers the conversation to the chosen agent, or assigns it when the workflow
// says so, if the database still allows it; the side room learns why. won: the
// database took the claim; the router learns of it once the transaction commits.
func (b *Bridge) claim(ctx context.Context, t *Tenant, conv *database.Conversation, decision routing.Decision) (won bool, err error) {
	now := b.now()
	agent := id.UserID(decision.UserID)
	state, ok := t.router.Agent(decision.UserID)
	if !ok {
		return false, nil
	}
	if t.router.Workflow().Direct {
		if won, err = b.DB.Claims.Assign(ctx, t.ID, conv.ID, agent, state.Capacity, now); err != nil || !won {
			return false, err
		}
		b.routerAssigned(ctx, t, agent, now)
		return true, firstErr(b.sideNotice(ctx, t, conv, "routed", decision.Explanation), b.announceAssignment(ctx, t, conv, agent, ""))
	}
	if won, err = b.DB.Claims.Offer(ctx, t.ID, conv.ID, agent, state.Capacity, now); err != nil || !won {
		return false, err
	}
	b.routerOffered(ctx, t, agent, conv.ID, now)
	return true, b.sendOffer(ctx, t, conv, agent, decision, now)
}

// sendOffer tells the agent in their control room what is offered and why, and the
// side room that it was.
func (b *Bridge) sendOffer(ctx context.Context, t *Tenant, conv *database.Conversation, agent id.UserID, decision routing.Decision, now time.Time) error {
	record, err := b.DB.Staff.Get(ctx, t.ID, agent)
	if err != nil || record == nil {
		return err
	}
	room, err := b.DB.CustomerRoom.Get(ctx, conv.RoomID)
	if err != nil || room == nil {
		return err
	}
	timeout := t.router.Workflow().OfferTimeout
	text := fmt.Sprintf("New conversation **%d** with **%s**, waiting since %s.\n\n%s\n\nReply **accept** to take it, or **decline**. The offer passes on in %s.",
		conv.ID, t.customerName(room.Customer), conv.OpenedAt.UTC().Format("15:04 UTC"), decision.Explanation, timeout)
	// The offer three ways: text (reply accept/decline), ✅/❌ reactions on it, a poll.
	origin := fmt.Sprintf("%s%d:%s:%d", offerOrigin, conv.ID, agent, now.UnixNano())
	control := record.ControlRoomID
	button := func(i int, key string) error {
		content := map[string]any{"m.relates_to": map[string]any{"rel_type": event.RelAnnotation, "event_id": origin, "key": key}}
		return b.DB.Outbox.EnqueueRelay(ctx, outboxKey(origin, "button", i), control, t.UserID, event.EventReaction, content, control, now)
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Stringer("agent", agent).Int("step", decision.Step+1).Msg("Offered a conversation")
	return firstErr(
		b.queueOwn(ctx, control, t.UserID, origin, event.EventMessage, bot.Notice(text)),
		button(0, bot.OfferAcceptReaction), button(1, bot.OfferDeclineReaction),
		b.queueOwn(ctx, control, t.UserID, origin+"|poll", event.EventUnstablePollStart, bot.OfferPoll(fmt.Sprintf("Take conversation %d?", conv.ID))),
		b.sideNotice(ctx, t, conv, "routed", decision.Explanation+" (offered)"),
	)
}

// errNotYetKnown: an answer points at an event the service has not recorded yet. A
// fast client can answer our offer or prompt before the outbox has stored the sent
// event's ID, so the first tries of such an event are retried (see answerRetries).
var errNotYetKnown = errors.New("the event answered is not recorded yet")

// answerRetries is how many times an answer to an unknown event is retried before it
// is taken as an answer to something else (and ignored).
const answerRetries = 3

// offerOrigin starts the event-map name of an offer: cc:offer:<conversation>:<agent>:<n>.
const offerOrigin = "cc:offer:"

// offerAnswer reads an agent's reaction or poll vote on an offer in their control
// room: the conversation it offered and whether they accept; ok false when the event
// is not an answer to an offer. early: the event may still be retried.
func (b *Bridge) offerAnswer(ctx context.Context, evt *event.Event, early bool) (convID int64, accept, ok bool, err error) {
	var target id.EventID
	switch evt.Type {
	case event.EventReaction:
		rel := evt.Content.AsReaction().RelatesTo
		target = rel.EventID
		if accept, ok = bot.ParseOfferReaction(rel.Key); !ok {
			return 0, false, false, nil
		}
	case event.EventUnstablePollResponse, eventPollResponse:
		if target, accept, ok = bot.ParseOfferVote(evt.Content.Raw); !ok {
			return 0, false, false, nil
		}
	default:
		return 0, false, false, nil
	}
	origin, err := b.DB.EventMap.Translate(ctx, evt.RoomID, target, evt.RoomID)
	if err == nil && origin == "" && early {
		return 0, false, false, errNotYetKnown
	}
	if err != nil || !strings.HasPrefix(string(origin), offerOrigin) {
		return 0, false, false, err
	}
	idPart, _, _ := strings.Cut(strings.TrimPrefix(string(origin), offerOrigin), ":")
	convID, err = strconv.ParseInt(idPart, 10, 64)
	return convID, accept, err == nil, nil
}

// queueNotice is what a customer was last told about their place in the queue.
type queueNotice struct {
	position int
	at       time.Time
	maxWait  bool
}

// queueNoticeEvery rate-limits position updates to one customer.
const queueNoticeEvery = 30 * time.Second

// tellQueue tells waiting customers their place in the queue and an estimated wait
// when it changed (at most every queueNoticeEvery), and, once, when they have waited
// the workflow's max_wait. It runs only in the routing loop, on committed data, so
// positions come from one consistent view. What was said is kept in memory: after a
// restart a customer may hear their position once more.
func (b *Bridge) tellQueue(ctx context.Context, t *Tenant, now time.Time) error {
	// A plain read: the claims' locked read would hide what another replica holds.
	waiting, err := b.DB.Conversation.Waiting(ctx, t.ID)
	if err != nil {
		return err
	}
	wf := t.router.Workflow()
	t.queueMu.Lock()
	defer t.queueMu.Unlock()
	seen := map[int64]bool{}
	for i, conv := range waiting {
		seen[conv.ID] = true
		told := t.queueTold[conv.ID]
		position := i + 1
		if told.position != position && now.Sub(told.at) >= queueNoticeEvery {
			text := fmt.Sprintf("You are number **%d** in the queue.", position)
			if wait, ok := routing.EstimateWait(position, t.router.ReadyAgents(), meanHandleTime); ok {
				text += fmt.Sprintf(" Estimated wait: about %d min.", int(wait.Minutes()))
			} else {
				text += " No agent is free right now; you keep your place."
			}
			key := outboxKey("queue", conv.ID, now.UnixNano())
			if err = b.DB.Outbox.Enqueue(ctx, key, conv.RoomID, t.UserID, event.EventMessage, bot.Notice(text), now); err != nil {
				return err
			}
			told.position, told.at = position, now
		}
		if wf.MaxWait > 0 && !told.maxWait && now.Sub(conv.OpenedAt) >= wf.MaxWait && t.MaxWaitMessage != "" {
			key := outboxKey("max-wait", conv.ID)
			if err = b.DB.Outbox.Enqueue(ctx, key, conv.RoomID, t.UserID, event.EventMessage, bot.Notice(t.MaxWaitMessage), now); err != nil {
				return err
			}
			told.maxWait = true
		}
		t.queueTold[conv.ID] = told
	}
	for id, told := range t.queueTold {
		if !seen[id] && now.Sub(told.at) > time.Hour {
			delete(t.queueTold, id) // served or gone long ago
		}
	}
	return nil
}
