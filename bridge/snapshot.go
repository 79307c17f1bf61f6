package bridge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/routing"
)

// The contact center of a tenant at this moment, for the dashboard and the
// Prometheus gauges. The live part (queue, offers, agents) is read from the database
// every time, since other replicas change it; it costs the tenant's open
// conversations, staff rows and loads. Today's figures come from the contact log,
// a read of the day (about 0.14 s at 10,000 conversations a day on PostgreSQL), so
// they are kept per tenant for todayReuse.

// todayReuse is how long a tenant's figures of today are reused.
const todayReuse = 5 * time.Second

// todayCache keeps each tenant's latest figures of today.
type todayCache struct {
	mu  sync.Mutex
	row map[string]todayRow
}

type todayRow struct {
	row reporting.Row
	at  time.Time
}

// Snapshot is the tenant's contact center now; Today comes from the contact log.
func (b *Bridge) Snapshot(ctx context.Context, tenantID string, now time.Time) (reporting.Snapshot, error) {
	t := b.TenantByID(tenantID)
	if t == nil {
		return reporting.Snapshot{}, fmt.Errorf("no tenant %q", tenantID)
	}
	s, err := b.liveSnapshot(ctx, t, now)
	if err != nil {
		return s, err
	}
	s.Today, err = b.today(ctx, t, now)
	return s, err
}

// liveSnapshot is the snapshot without Today.
func (b *Bridge) liveSnapshot(ctx context.Context, t *Tenant, now time.Time) (reporting.Snapshot, error) {
	s := reporting.Snapshot{Tenant: t.ID, At: now, Queues: []reporting.QueueNow{}, AgentsByStatus: map[string]int{}}
	open, err := b.DB.Conversation.OpenOfTenant(ctx, t.ID)
	if err != nil {
		return s, err
	}
	queues := map[string]*reporting.QueueNow{}
	var steps []string
	for _, conv := range open {
		switch conv.Status {
		case database.StatusNew:
			wait := max(now.Sub(conv.OpenedAt), 0)
			step := t.stepNow(conv, wait)
			q := queues[step]
			if q == nil {
				q = &reporting.QueueNow{Step: step}
				queues[step] = q
				steps = append(steps, step)
			}
			q.Waiting++
			q.OldestWait = max(q.OldestWait, wait)
			s.Waiting++
			s.OldestWait = max(s.OldestWait, wait)
		case database.StatusOffered:
			s.OffersOpen++
		}
	}
	slices.Sort(steps)
	for _, step := range steps {
		s.Queues = append(s.Queues, *queues[step])
	}
	if s.Agents, err = b.agentsNow(ctx, t, now); err != nil {
		return s, err
	}
	for _, a := range s.Agents {
		s.AgentsByStatus[a.Status]++
	}
	return s, nil
}

// agentsNow are the tenant's agents with their status, load and capacity: the
// status as the database has it, wrap_up while the router holds them in wrap-up,
// on_call while they talk on a call.
func (b *Bridge) agentsNow(ctx context.Context, t *Tenant, now time.Time) ([]reporting.AgentNow, error) {
	records, err := b.DB.Staff.OfTenant(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	status := make(map[id.UserID]routing.Status, len(records))
	for _, r := range records {
		if r.RemovedAt.IsZero() {
			status[r.UserID] = r.Status
		}
	}
	load, err := b.DB.Participants.ActiveLoad(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	onCall, err := b.agentsOnCall(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var agents []reporting.AgentNow
	for _, s := range t.staff() {
		if s.Role != routing.RoleAgent {
			continue
		}
		u := id.UserID(s.UserID)
		st, ok := status[u]
		if !ok {
			st = routing.Offline // never seen: no control room yet
		}
		a := reporting.AgentNow{UserID: s.UserID, Status: string(st), Load: load[u], Capacity: s.MaxConversations()}
		if state, ok := t.router.Agent(s.UserID); ok && st == routing.Ready && state.WrapUpUntil.After(now) {
			a.Status = reporting.StatusWrapUp
		}
		if onCall[u] {
			a.Status = reporting.StatusOnCall
		}
		agents = append(agents, a)
	}
	slices.SortFunc(agents, func(x, y reporting.AgentNow) int { return strings.Compare(x.UserID, y.UserID) })
	return agents, nil
}

// agentsOnCall are the tenant's agents talking on an answered call that has not ended.
func (b *Bridge) agentsOnCall(ctx context.Context, tenantID string) (map[id.UserID]bool, error) {
	live, err := b.DB.Calls().Live(ctx)
	if err != nil {
		return nil, err
	}
	onCall := map[id.UserID]bool{}
	for _, c := range live {
		if c.TenantID == tenantID && c.Agent != "" && !c.AnsweredAt.IsZero() {
			onCall[c.Agent] = true
		}
	}
	return onCall, nil
}

// today is the tenant's summary of today so far, reused for todayReuse.
func (b *Bridge) today(ctx context.Context, t *Tenant, now time.Time) (reporting.Row, error) {
	b.reports.todays.mu.Lock()
	defer b.reports.todays.mu.Unlock()
	if kept, ok := b.reports.todays.row[t.ID]; ok && now.Sub(kept.at) < todayReuse && !now.Before(kept.at) {
		return kept.row, nil
	}
	settings, err := t.ReportSettings()
	if err != nil {
		return reporting.Row{}, err
	}
	summary, err := b.DB.ContactLog.Summary(ctx, t.ID, reporting.Today(now, settings), settings)
	if err != nil {
		return reporting.Row{}, err
	}
	if b.reports.todays.row == nil {
		b.reports.todays.row = map[string]todayRow{}
	}
	b.reports.todays.row[t.ID] = todayRow{row: summary.Total, at: now}
	return summary.Total, nil
}

// stepNow is the step a waiting conversation is at, by its age, as routing sees it.
func (t *Tenant) stepNow(conv *database.Conversation, wait time.Duration) string {
	wf := t.router.Workflow()
	step, _ := t.router.StepFor(taskOf(conv), wait)
	return stepName(wf, step)
}

// stepName names a workflow step for reports and metrics: its queue's name, or its
// target's kind and place ("account_manager", "step 2"). Never an expression's
// text, which may name skills and people.
func stepName(wf *routing.Workflow, i int) string {
	if wf == nil || i < 0 || i >= len(wf.Steps) {
		return ""
	}
	s := wf.Steps[i]
	switch {
	case s.Queue != "":
		return s.Queue
	case s.AccountManager:
		return "account_manager"
	}
	return fmt.Sprintf("step %d", i+1)
}
