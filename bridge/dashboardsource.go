package bridge

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/dashboard"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// The dashboard's figures. One tenant snapshot serves all its viewers: the dashboard
// narrows it for each (dashboard.ForViewer), and asks once per distinct viewer after
// every change notice, so a snapshot is kept for liveReuse and handed to the viewers
// asking after the same notice. The figures from the contact log (today's, the chart)
// cost a read of the day's log: they are read again at most every logReuse, and a
// change within that brings one more notice once it has passed, so the page never
// keeps figures older than the last change for longer.

const (
	// liveReuse is how long a snapshot answers the viewers after the same notice.
	liveReuse = time.Second
	// logReuse bounds how often the tenant's contact log is read for its figures.
	logReuse = 2 * time.Second
	// historyHours is how many hours the chart shows, the current one included.
	historyHours = 12
	// replicaPoll is how often a tenant watched by open dashboards is compared with the
	// database, for the changes other replicas commit (their notices stay in their
	// process).
	replicaPoll = 2 * time.Second
)

// dashboardSource implements dashboard.Source over the database and the contact log.
type dashboardSource struct {
	dashboard.Notifier
	b *Bridge
	// ctx ends when the service stops, and with it the polls.
	ctx context.Context

	mu      sync.Mutex
	tenants map[string]*tenantFigures
}

// tenantFigures is what is kept of one tenant's figures between reads.
type tenantFigures struct {
	// generation counts the change notices.
	generation atomic.Uint64

	mu      sync.Mutex // one read at a time
	snap    *dashboard.Snapshot
	snapGen uint64
	snapAt  time.Time
	log     *logFigures
	logGen  uint64
	logAt   time.Time
	// followUp is the notice due when the log figures may be read again.
	followUp *time.Timer
	// watchers are the open subscriptions; the first starts the replica poll. Apart
	// from mu, which a read holds for its length.
	watchMu  sync.Mutex
	watchers int
	stopPoll chan struct{}
}

func newDashboardSource(ctx context.Context, b *Bridge) *dashboardSource {
	return &dashboardSource{b: b, ctx: ctx, tenants: map[string]*tenantFigures{}}
}

func (s *dashboardSource) figures(tenantID string) *tenantFigures {
	s.mu.Lock()
	defer s.mu.Unlock()
	tf := s.tenants[tenantID]
	if tf == nil {
		tf = &tenantFigures{}
		s.tenants[tenantID] = tf
	}
	return tf
}

// changed is a committed change of the tenant's figures.
func (s *dashboardSource) changed(tenantID string) {
	s.figures(tenantID).generation.Add(1)
	s.Notify(tenantID)
}

// Subscribe implements dashboard.Source; while a tenant has subscribers, its figures
// are also compared with the database every replicaPoll.
func (s *dashboardSource) Subscribe(tenantID string) (<-chan struct{}, func()) {
	ch, cancel := s.Notifier.Subscribe(tenantID)
	tf := s.figures(tenantID)
	tf.watchMu.Lock()
	tf.watchers++
	if tf.watchers == 1 {
		tf.stopPoll = make(chan struct{})
		go s.poll(tenantID, tf, tf.stopPoll)
	}
	tf.watchMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			cancel()
			tf.watchMu.Lock()
			defer tf.watchMu.Unlock()
			if tf.watchers--; tf.watchers == 0 {
				close(tf.stopPoll)
			}
		})
	}
}

// poll notices what other replicas changed: the live figures (queue, agents, open
// conversations) read again, compared with the last snapshot's.
func (s *dashboardSource) poll(tenantID string, tf *tenantFigures, stop <-chan struct{}) {
	tick := time.NewTicker(replicaPoll)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, replicaPoll)
		now := s.b.now()
		live, err := s.live(ctx, tenantID, now)
		cancel()
		if err != nil {
			continue // the next tick, or the page's own refresh, tries again
		}
		tf.mu.Lock()
		differs := tf.snap == nil || !sameLive(tf.snap, live)
		tf.mu.Unlock()
		if differs {
			s.changed(tenantID)
		}
	}
}

// Snapshot implements dashboard.Source: the tenant's whole figures, whoever the viewer.
func (s *dashboardSource) Snapshot(ctx context.Context, tenantID string, _ dashboard.Viewer) (*dashboard.Snapshot, error) {
	tf := s.figures(tenantID)
	gen := tf.generation.Load()
	tf.mu.Lock()
	defer tf.mu.Unlock()
	now := s.b.now()
	if tf.snap != nil && tf.snapGen == gen && now.Sub(tf.snapAt) < liveReuse {
		return tf.snap, nil
	}
	snap, err := s.live(ctx, tenantID, now)
	if err != nil {
		return nil, err
	}
	if tf.log == nil || now.Sub(tf.logAt) >= logReuse {
		if tf.log, err = s.readLog(ctx, tenantID, now); err != nil {
			return nil, err
		}
		tf.logGen, tf.logAt = gen, now
	} else if tf.logGen != gen && tf.followUp == nil {
		tf.followUp = time.AfterFunc(logReuse-now.Sub(tf.logAt), func() {
			tf.mu.Lock()
			tf.followUp = nil
			tf.mu.Unlock()
			s.changed(tenantID) // a new generation: the snapshot kept is not reused
		})
	}
	tf.log.apply(snap)
	tf.snap, tf.snapGen, tf.snapAt = snap, gen, now
	return snap, nil
}

// live is the tenant's snapshot without the contact log's figures: the queue and the
// agents now (liveSnapshot, snapshot.go), the open conversations.
func (s *dashboardSource) live(ctx context.Context, tenantID string, now time.Time) (*dashboard.Snapshot, error) {
	t := s.b.TenantByID(tenantID)
	if t == nil || !s.b.tenantsReady.Load() {
		return nil, fmt.Errorf("no tenant %q", tenantID)
	}
	// Today's figures are read below with the agents' and the chart's, in one pass.
	rs, err := s.b.liveSnapshot(ctx, t, now)
	if err != nil {
		return nil, err
	}
	snap := &dashboard.Snapshot{Tenant: t.ID, TenantName: t.Name, At: now,
		Queue: dashboard.Queue{Waiting: rs.Waiting, OffersOpen: rs.OffersOpen}}
	if rs.At.IsZero() {
		rs.At = now
	}
	if rs.Waiting > 0 {
		oldest := rs.At.Add(-rs.OldestWait)
		snap.Queue.OldestSince = &oldest
	}
	records, err := s.b.DB.Staff.OfTenant(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	since := make(map[id.UserID]time.Time, len(records))
	for _, r := range records {
		since[r.UserID] = r.StatusChangedAt
	}
	for _, a := range rs.Agents {
		entry := t.staffEntry(id.UserID(a.UserID))
		if entry == nil || entry.Role != routing.RoleAgent {
			continue // supervisors take no conversations
		}
		agent := dashboard.Agent{UserID: a.UserID, Name: entry.Name, Status: dashboard.AgentStatus(a.Status), Load: a.Load, Capacity: a.Capacity}
		if at := since[id.UserID(a.UserID)]; at.UnixMilli() > 0 {
			agent.Since = &at
		}
		snap.Agents = append(snap.Agents, agent)
	}
	slices.SortFunc(snap.Agents, func(x, y dashboard.Agent) int { return strings.Compare(x.UserID, y.UserID) })
	open, err := s.b.DB.Conversation.OpenOfTenant(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	via := []string{s.b.Config.Homeserver.Domain}
	for _, conv := range open {
		snap.Conversations = append(snap.Conversations, t.dashboardConversation(conv, via, now))
	}
	return snap, nil
}

// dashboardConversation is an open conversation as the dashboard lists it. The
// customer appears by the name staff see in the rooms, never by Matrix ID.
func (t *Tenant) dashboardConversation(conv *database.Conversation, via []string, now time.Time) dashboard.Conversation {
	c := dashboard.Conversation{ID: strconv.FormatInt(conv.ID, 10), Customer: t.convo(conv, nil).customerName(),
		SideRoom: conv.SideRoom.String(), Via: via}
	var agent id.UserID
	switch conv.Status {
	case database.StatusNew:
		c.State, c.Since = "queued", conv.OpenedAt
		c.Step = t.stepNow(conv, max(now.Sub(conv.OpenedAt), 0))
	case database.StatusOffered:
		c.State, c.Since, agent = "offered", conv.OfferedAt, conv.OfferedTo
	default:
		c.State, c.Since, agent = "active", conv.AssignedAt, conv.Agent
	}
	if c.Since.IsZero() {
		c.Since = conv.OpenedAt
	}
	if agent != "" {
		c.AgentID, c.Agent = agent.String(), t.staffName(agent)
	}
	return c
}

// sameLive tells whether two snapshots show the same live figures.
func sameLive(a, b *dashboard.Snapshot) bool {
	if a.Queue.Waiting != b.Queue.Waiting || a.Queue.OffersOpen != b.Queue.OffersOpen ||
		len(a.Agents) != len(b.Agents) || len(a.Conversations) != len(b.Conversations) {
		return false
	}
	for i := range a.Agents {
		x, y := a.Agents[i], b.Agents[i]
		if x.UserID != y.UserID || x.Status != y.Status || x.Load != y.Load || x.Capacity != y.Capacity {
			return false
		}
	}
	for i := range a.Conversations {
		x, y := a.Conversations[i], b.Conversations[i]
		if x.ID != y.ID || x.State != y.State || x.AgentID != y.AgentID {
			return false
		}
	}
	return true
}
