package bridge

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/bridge/transport"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/metrics"
	"github.com/contactcenter/contactcenter/reporting"
)

// Prometheus as the service feeds it (internal/metrics): off unless metrics.listen
// is set. The gauges (inbox and outbox, queues, agents) are read from the database
// at each scrape; the counters and histograms of the contact center follow the
// contact log: every entry appended is counted once its transaction commits.

// metricsCloseTimeout bounds the scrapes let finish at shutdown.
const metricsCloseTimeout = 5 * time.Second

// startMetrics makes the metrics and starts their listener when metrics.listen is
// set. It runs after the database opens and before anything talks to the
// homeserver, whose requests it times.
func (b *Bridge) startMetrics(ctx context.Context) error {
	if b.Config.Metrics.Listen == "" {
		return nil
	}
	m := metrics.New(metrics.Sources{Transport: b.backlogGauges, Queues: b.queueGauges, Agents: b.agentGauges})
	srv, err := m.Listen(b.Config.Metrics.Listen, b.Log.With().Str("component", "metrics").Logger())
	if err != nil {
		return fatal(ExitListen, "is another process using metrics.listen?", err)
	}
	b.reports.metrics, b.reports.server = m, srv
	b.DB.ContactLog.Observe(func(ctx context.Context, e reporting.Entry) {
		b.afterCommit(ctx, func(ctx context.Context) { b.countEntry(ctx, e) })
	})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		<-ctx.Done()
		closeCtx, cancel := context.WithTimeout(context.Background(), metricsCloseTimeout)
		defer cancel()
		_ = srv.Close(closeCtx)
	}()
	return nil
}

// MetricsAddr is the metrics listener's address ("" when metrics are off).
func (b *Bridge) MetricsAddr() string {
	if b.reports.server == nil {
		return ""
	}
	return b.reports.server.Addr().String()
}

// countEntry counts a committed contact log entry, with the step its conversation
// was queued at, and observes the times it completes: the wait at the first
// acceptance, the first response, the handle time at the end.
func (b *Bridge) countEntry(ctx context.Context, e reporting.Entry) {
	m := b.reports.metrics
	if m == nil || e.Kind == reporting.AgentStatus {
		return
	}
	step, err := b.stepOf(ctx, e)
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Int64("conversation", e.Conversation).Msg("Could not read the step of a contact")
	}
	m.ContactEvent(e.Tenant, step, e.Kind)
	switch e.Kind {
	case reporting.FirstResponse:
		m.ContactFirstResponse(e.Tenant, step, e.At.Sub(e.OpenedAt))
	case reporting.Accepted, reporting.Ended:
		entries, err := b.DB.ContactLog.Conversation(ctx, e.Tenant, e.OpenedAt, e.Conversation)
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Int64("conversation", e.Conversation).Msg("Could not read a contact's log")
			return
		}
		c := reporting.Fold(entries)
		// The log keeps milliseconds: this acceptance is the first if they agree.
		if e.Kind == reporting.Accepted && c.Accepted.UnixMilli() == e.At.UnixMilli() && !c.Queued.IsZero() {
			m.ContactWait(e.Tenant, step, c.Accepted.Sub(c.Queued))
		}
		if d, ok := c.Handle(); e.Kind == reporting.Ended && ok {
			m.ContactHandled(e.Tenant, step, d)
		}
	}
}

// stepCache remembers the step of recent conversations, so counting their entries
// rarely reads it: with replicas, another one may have queued the conversation.
type stepCache struct {
	mu   sync.Mutex
	step map[int64]string
}

// stepCacheSize bounds the cache; it starts again empty once full.
const stepCacheSize = 4096

// stepOf is the step the entry's conversation was queued at.
func (b *Bridge) stepOf(ctx context.Context, e reporting.Entry) (string, error) {
	c := &b.reports.steps
	c.mu.Lock()
	step, ok := c.step[e.Conversation]
	c.mu.Unlock()
	if ok {
		return step, nil
	}
	if e.Kind == reporting.Queued {
		step = e.Step
	} else {
		var err error
		if step, err = b.DB.ContactLog.StepOf(ctx, e.Tenant, e.Conversation); err != nil {
			return "", err
		}
	}
	c.mu.Lock()
	if c.step == nil || len(c.step) >= stepCacheSize {
		c.step = make(map[int64]string)
	}
	c.step[e.Conversation] = step
	c.mu.Unlock()
	return step, nil
}

// backlogGauges reads the inbox's and outbox's backlog for a scrape.
func (b *Bridge) backlogGauges(ctx context.Context) (metrics.Transport, error) {
	backlog, err := b.DB.Backlog(ctx)
	if err != nil {
		return metrics.Transport{}, err
	}
	now := b.now()
	age := func(t time.Time) time.Duration {
		if t.IsZero() {
			return 0
		}
		return max(now.Sub(t), 0)
	}
	return metrics.Transport{InboxDepth: backlog.InboxDepth, OutboxDepth: backlog.OutboxDepth,
		InboxOldest: age(backlog.InboxOldest), OutboxOldest: age(backlog.OutboxOldest)}, nil
}

// scrapeCache keeps the tenants' live snapshots of one scrape, which both the queue
// and the agent gauges read.
type scrapeCache struct {
	mu    sync.Mutex
	at    time.Time
	snaps []reporting.Snapshot
}

// scrapeReuse is how long one reading of the tenants serves the gauges.
const scrapeReuse = time.Second

// liveSnapshots are every tenant's live snapshot, read at most every scrapeReuse.
func (b *Bridge) liveSnapshots(ctx context.Context) ([]reporting.Snapshot, error) {
	c := &b.reports.scrape
	c.mu.Lock()
	defer c.mu.Unlock()
	now := b.now()
	if c.snaps != nil && now.Sub(c.at) < scrapeReuse && !now.Before(c.at) {
		return c.snaps, nil
	}
	if !b.tenantsReady.Load() {
		return nil, errors.New("the tenants are not started yet")
	}
	snaps := make([]reporting.Snapshot, 0, len(b.tenants))
	for _, t := range b.tenants {
		s, err := b.liveSnapshot(ctx, t, now)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, s)
	}
	c.snaps, c.at = snaps, now
	return snaps, nil
}

func (b *Bridge) queueGauges(ctx context.Context) ([]metrics.Queue, error) {
	snaps, err := b.liveSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	var queues []metrics.Queue
	for _, s := range snaps {
		if len(s.Queues) == 0 {
			// An empty queue is shown as zero, not as a missing series.
			queues = append(queues, metrics.Queue{Tenant: s.Tenant})
		}
		for _, q := range s.Queues {
			queues = append(queues, metrics.Queue{Tenant: s.Tenant, Step: q.Step, Waiting: q.Waiting, OldestWait: q.OldestWait})
		}
	}
	return queues, nil
}

func (b *Bridge) agentGauges(ctx context.Context) ([]metrics.AgentCount, error) {
	snaps, err := b.liveSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	var agents []metrics.AgentCount
	for _, s := range snaps {
		for status, n := range s.AgentsByStatus {
			agents = append(agents, metrics.AgentCount{Tenant: s.Tenant, Status: status, Count: n})
		}
	}
	return agents, nil
}

// The transport's hooks: failed and given-up inbox entries, recovered panics.

// countFailures counts the inbox entries whose handling failed (to be retried or
// given up); a lost lease or a stop is no failure.
func (b *Bridge) countFailures(handle transport.Handler) transport.Handler {
	return func(ctx context.Context, j *transport.Job) error {
		err := handle(ctx, j)
		if m := b.reports.metrics; m != nil && err != nil && ctx.Err() == nil && !errors.Is(err, transport.ErrLeaseLost) {
			m.HandlerError(false)
		}
		return err
	}
}

// countGiveUps counts the inbox entries given up, once the give-up commits.
func (b *Bridge) countGiveUps(giveUp func(context.Context, *database.InboxEntry, error) error) func(context.Context, *database.InboxEntry, error) error {
	return func(ctx context.Context, entry *database.InboxEntry, cause error) error {
		if m := b.reports.metrics; m != nil {
			b.afterCommit(ctx, func(context.Context) { m.HandlerError(true) })
		}
		return giveUp(ctx, entry, cause)
	}
}

// countPanic counts a panic the transport recovered, by where: a handler (the inbox),
// a send (the outbox), or the transport's own loops.
func (b *Bridge) countPanic(where string) {
	m := b.reports.metrics
	if m == nil {
		return
	}
	switch {
	case strings.HasPrefix(where, "inbox"):
		m.Panic("handler")
	case strings.HasPrefix(where, "outbox"):
		m.Panic("sender")
	default:
		m.Panic("loop")
	}
}

// timedTransport times the requests to the homeserver. Long polls (/sync) are left
// out: they wait by design and would drown the latency.
type timedTransport struct {
	base http.RoundTripper
	m    *metrics.Metrics
}

func (t timedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/sync") {
		return t.base.RoundTrip(req)
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	t.m.HomeserverRequest(status, time.Since(start))
	return resp, err
}

// homeserverConns is how many idle connections a client keeps to the homeserver:
// about as many as sends run at once (the outbox's workers and the handlers).
const homeserverConns = 64

// keepConnections lets a client keep an idle connection for each send running at
// once: all its requests go to the one homeserver, and with Go's default of two, most
// sends under load would dial a new connection and close it again.
func keepConnections(client *http.Client) {
	base, ok := client.Transport.(*http.Transport)
	if client.Transport == nil {
		base, ok = http.DefaultTransport.(*http.Transport)
	}
	if !ok {
		return
	}
	t := base.Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, homeserverConns)
	t.MaxIdleConnsPerHost = homeserverConns
	client.Transport = t
}

// timeRequests makes the client's requests to the homeserver timed, when metrics
// are on.
func (b *Bridge) timeRequests(client *http.Client) {
	m := b.reports.metrics
	if m == nil || client == nil {
		return
	}
	if _, done := client.Transport.(timedTransport); done {
		return
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = timedTransport{base: base, m: m}
}
