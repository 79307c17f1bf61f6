package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// The outbound part: how fast contactability is decided, by the pure function and
// through the admin API on PostgreSQL with each decision stored (dry runs, which store
// the decision and nothing else); then a burst of requests at once against the fake
// homeserver, some of whose customers never agreed to be contacted: the time until
// all are decided (answered), until every allowed one is with an agent (assigned
// directly), and until each of their customers is invited, with the homeserver's own
// count of invites per customer (exactly one each, none for the refused).

type outboundOptions struct {
	Decisions   int `json:"decisions"`
	APIRequests int `json:"api_requests"`
	APISenders  int `json:"api_senders"`
	Burst       int `json:"burst"`
	Refused     int `json:"burst_refused"`
	Agents      int `json:"agents"`
	Capacity    int `json:"capacity"`
}

var outboundFlags outboundOptions

func init() {
	flag.IntVar(&outboundFlags.Decisions, "outbound-decisions", 200000, "outbound: decisions of the pure function timed")
	flag.IntVar(&outboundFlags.APIRequests, "outbound-api", 2000, "outbound: dry-run requests through the admin API")
	flag.IntVar(&outboundFlags.APISenders, "outbound-api-senders", 4, "outbound: admin API requests in flight")
	flag.IntVar(&outboundFlags.Burst, "outbound-burst", 1000, "outbound: requests sent at once")
	flag.IntVar(&outboundFlags.Refused, "outbound-burst-refused", 200, "outbound: of those, customers without consent to contact")
}

// outboundResult holds the part's figures.
type outboundResult struct {
	Options          outboundOptions `json:"options"`
	Database         string          `json:"database"`
	PureNsPerOp      float64         `json:"pure_ns_per_decision"`
	PurePerSecond    float64         `json:"pure_decisions_per_second"`
	APIPerSecond     float64         `json:"api_decisions_per_second"`
	APILatency       latencies       `json:"api_latency"`
	DecisionsStored  int             `json:"api_decisions_stored"`
	BurstDecidedMS   float64         `json:"burst_all_decided_ms"`
	BurstAssignedMS  float64         `json:"burst_all_assigned_ms"`
	BurstInvitedMS   float64         `json:"burst_all_invited_ms"`
	Allowed          int             `json:"burst_allowed"`
	RefusedSeen      int             `json:"burst_refused"`
	DoubleInvites    int             `json:"double_invites"`
	InvitesToRefused int             `json:"invites_to_refused"`
	DoubleAssigned   int             `json:"double_assigned"`
	Conversations    int             `json:"conversations"`
}

const outboundTenant = "acme"

func obCustomer(i int) string { return fmt.Sprintf("@obcust%d:remote.example", i) }
func obAgent(i int) string    { return fmt.Sprintf("@obagent%02d:%s", i, domain) }

// measureOutbound runs the part on PostgreSQL (pg) or, without it, SQLite.
func measureOutbound(ctx context.Context, pg *pgcluster.Cluster, inner, log zerolog.Logger) (*outboundResult, error) {
	opts := outboundFlags
	if opts.Decisions < 1 || opts.APIRequests < 1 || opts.APISenders < 1 || opts.Burst < 1 || opts.Refused < 0 || opts.Refused > opts.Burst {
		return nil, errors.New("outbound: sizes must be positive, and -outbound-burst-refused at most -outbound-burst")
	}
	allowed := opts.Burst - opts.Refused
	opts.Capacity = 20
	opts.Agents = max(1, (allowed+opts.Capacity-1)/opts.Capacity)
	res := &outboundResult{Options: opts, Database: "postgres"}
	if pg == nil {
		res.Database = "sqlite"
	}
	res.PureNsPerOp = pureDecisions(opts.Decisions)
	res.PurePerSecond = 1e9 / res.PureNsPerOp
	log.Info().Float64("per_second", res.PurePerSecond).Msg("Outbound: pure decisions")

	key := contextapi.NewKey()
	o, err := startOurs(ctx, workload{}, pg, false, inner, outboundConfig(key, opts))
	if err != nil {
		return nil, err
	}
	defer o.close()
	db := o.svc.DB
	for i := range opts.APIRequests + opts.Burst {
		if i >= opts.APIRequests+allowed {
			break // the burst's last customers never agreed
		}
		if err = o.svc.Consent.SetPolicy(ctx, consent.Subject{Tenant: outboundTenant, UserID: obCustomer(i)}, consent.Contact, consent.Always); err != nil {
			return nil, err
		}
	}
	base := o.baseURL() + adminapi.PathPrefix
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: opts.Burst + 1, DisableCompression: true}}
	defer client.CloseIdleConnections()

	// Decisions through the API, stored.
	bodies := make([][]byte, opts.APIRequests)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{"matrix_id": obCustomer(i), "reason": "A benchmark", "dry_run": true})
	}
	begin := time.Now()
	lat, err := postAll(ctx, client, base, key, bodies, opts.APISenders, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("outbound API: %w", err)
	}
	res.APIPerSecond = float64(len(bodies)) / time.Since(begin).Seconds()
	res.APILatency = latencySummary(lat)
	if err = db.QueryRow(ctx, `SELECT COUNT(*) FROM outbound_decision WHERE dry_run`).Scan(&res.DecisionsStored); err != nil {
		return nil, err
	}
	log.Info().Float64("per_second", res.APIPerSecond).Int("stored", res.DecisionsStored).Msg("Outbound: decisions through the API")

	if err = readyAgents(ctx, o, opts.Agents); err != nil {
		return nil, err
	}
	if err = outboundBurst(ctx, o, client, base, key, opts, res); err != nil {
		return nil, err
	}
	log.Info().Float64("decided_ms", res.BurstDecidedMS).Float64("assigned_ms", res.BurstAssignedMS).
		Float64("invited_ms", res.BurstInvitedMS).Int("double_invites", res.DoubleInvites).Msg("Outbound: burst")
	return res, nil
}

// pureDecisions times outbound.Decide on a customer inside the window with two
// earlier contacts, and returns nanoseconds per decision.
func pureDecisions(n int) float64 {
	p, err := outbound.DefaultConfig().Compile()
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 10, 11, 0, 0, 0, time.UTC)
	in := outbound.Input{Now: now, ContactPolicy: outbound.PolicyAlways, PolicySetAt: now.AddDate(0, -1, 0),
		TenantZone: "Europe/Lisbon", Contacts: []time.Time{now.AddDate(0, 0, -3), now.AddDate(0, 0, -1)}}
	begin := time.Now()
	for range n {
		if d := outbound.Decide(p, in); d.Verdict == "" {
			panic("no verdict")
		}
	}
	return float64(time.Since(begin).Nanoseconds()) / float64(n)
}

// outboundConfig gives ACME an admin key, a contact policy of any hour with no cap
// that matters, agents enough for every allowed request, and direct assignment.
func outboundConfig(key string, opts outboundOptions) func(*config.Config) {
	return func(cfg *config.Config) {
		t := cfg.TenantByID(outboundTenant)
		t.AdminAPIKeys = []string{contextapi.KeyHashConfig(key)}
		t.Outbound = &outbound.Config{MaxContacts: 5, Period: routing.Duration(24 * time.Hour)}
		t.ConsentWait = 0
		var wf routing.Workflow
		if err := yaml.Unmarshal([]byte("steps: [{queue: everyone}]\ndirect: true\n"), &wf); err != nil {
			panic(err)
		}
		t.Workflow = &wf
		t.Staff = nil
		for i := range opts.Agents {
			t.Staff = append(t.Staff, routing.Staff{UserID: obAgent(i), Name: fmt.Sprintf("Agent %02d", i), Role: routing.RoleAgent,
				Capacity: opts.Capacity})
		}
	}
}

// readyAgents waits for the agents' control rooms and makes them ready, as !ready
// would.
func readyAgents(ctx context.Context, o *ours, n int) error {
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := pollUntil(waitCtx, 20*time.Millisecond, func() (bool, error) {
		staff, err := o.svc.DB.Staff.OfTenant(ctx, outboundTenant)
		rooms := 0
		for _, s := range staff {
			if s.ControlRoomID != "" {
				rooms++
			}
		}
		return rooms == n, err
	})
	if err != nil {
		return fmt.Errorf("waiting for the agents' control rooms: %w", err)
	}
	for i := range n {
		if err = o.svc.DB.Staff.SetStatus(ctx, outboundTenant, id.UserID(obAgent(i)), routing.Ready, time.Now()); err != nil {
			return err
		}
	}
	time.Sleep(2 * time.Second) // the routing tick reads the statuses
	return nil
}

// outboundBurst sends every request of the burst at once and times it.
func outboundBurst(ctx context.Context, o *ours, client *http.Client, base, key string, opts outboundOptions, res *outboundResult) error {
	db := o.svc.DB
	first := opts.APIRequests
	allowed := opts.Burst - opts.Refused
	bodies := make([][]byte, opts.Burst)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{"matrix_id": obCustomer(first + i), "reason": "A benchmark burst"})
	}
	begin := time.Now()
	if _, err := postAll(ctx, client, base, key, bodies, opts.Burst, http.StatusAccepted); err != nil {
		return fmt.Errorf("outbound burst: %w", err)
	}
	res.BurstDecidedMS = ms(time.Since(begin))
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	count := func(query string) (int, error) {
		var n int
		err := db.QueryRow(ctx, query).Scan(&n)
		return n, err
	}
	const assignedQuery = `SELECT COUNT(*) FROM outbound_request r JOIN conversation c ON c.id = r.conversation_id
		WHERE r.origin = 'api' AND c.agent_user_id IS NOT NULL`
	if err := pollUntil(waitCtx, pollInterval, func() (bool, error) {
		n, err := count(assignedQuery)
		return n >= allowed, err
	}); err != nil {
		return fmt.Errorf("waiting for the burst's assignments: %w", err)
	}
	res.BurstAssignedMS = ms(time.Since(begin))
	if err := pollUntil(waitCtx, pollInterval, func() (bool, error) {
		n, err := count(`SELECT COUNT(*) FROM outbound_request WHERE state = 'invited'`)
		return n >= allowed, err
	}); err != nil {
		return fmt.Errorf("waiting for the burst's invites: %w", err)
	}
	res.BurstInvitedMS = ms(time.Since(begin))
	// A few more outbound ticks: anything tried twice would show now.
	time.Sleep(5 * time.Second)
	var err error
	if res.Allowed, err = count(`SELECT COUNT(*) FROM outbound_request WHERE state = 'invited' AND attempts = 1`); err != nil {
		return err
	}
	if res.RefusedSeen, err = count(`SELECT COUNT(*) FROM outbound_request WHERE state = 'refused'`); err != nil {
		return err
	}
	if res.Conversations, err = count(`SELECT COUNT(*) FROM conversation`); err != nil {
		return err
	}
	if res.DoubleAssigned, err = count(`SELECT COUNT(*) FROM (SELECT conversation_id FROM conversation_staff
		WHERE role = 'agent' GROUP BY conversation_id HAVING COUNT(*) > 1) doubled`); err != nil {
		return err
	}
	for i := range opts.Burst {
		n := o.fake.InvitesTo(obCustomer(first + i))
		switch {
		case i >= allowed:
			res.InvitesToRefused += n
		case n > 1:
			res.DoubleInvites++
		}
	}
	if res.Allowed != allowed || res.RefusedSeen != opts.Refused || res.Conversations != allowed ||
		res.DoubleInvites+res.InvitesToRefused+res.DoubleAssigned > 0 {
		return fmt.Errorf("outbound burst: %d invited once of %d allowed, %d refused of %d, %d conversations, %d double invites, %d invites to refused customers, %d conversations with two agents",
			res.Allowed, allowed, res.RefusedSeen, opts.Refused, res.Conversations, res.DoubleInvites, res.InvitesToRefused, res.DoubleAssigned)
	}
	return nil
}

// postAll POSTs the bodies to the admin API's outbound endpoint, senders at once,
// and returns each one's latency; any other status than want is an error.
func postAll(ctx context.Context, client *http.Client, base, key string, bodies [][]byte, senders int, want int) ([]time.Duration, error) {
	jobs := make(chan []byte)
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range jobs {
				begin := time.Now()
				err := postOutbound(ctx, client, base, key, body, want)
				mu.Lock()
				lat = append(lat, time.Since(begin))
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range bodies {
		jobs <- b
	}
	close(jobs)
	wg.Wait()
	return lat, firstErr
}

func postOutbound(ctx context.Context, client *http.Client, base, key string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"outbound", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("POST outbound: %d %s", resp.StatusCode, answer)
	}
	return nil
}

func printOutbound(out io.Writer, r *outboundResult) {
	if r == nil {
		return
	}
	fmt.Fprintf(out, "\nOutbound contact (%s)\n", r.Database)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "pure decisions\t%.0f/s\t(%.2f µs each)\n", r.PurePerSecond, r.PureNsPerOp/1000)
	fmt.Fprintf(tw, "through the API, stored\t%.0f/s\t(%d in flight; p50 %.1f ms, p99 %.1f ms; %d stored)\n",
		r.APIPerSecond, r.Options.APISenders, r.APILatency.P50, r.APILatency.P99, r.DecisionsStored)
	fmt.Fprintf(tw, "%d at once, %d refused\tall decided %.0f ms\tall %d with an agent %.0f ms, invited %.0f ms\n",
		r.Options.Burst, r.RefusedSeen, r.BurstDecidedMS, r.Allowed, r.BurstAssignedMS, r.BurstInvitedMS)
	fmt.Fprintf(tw, "double invites / invites to refused / double assignments\t%d / %d / %d\t\n", r.DoubleInvites, r.InvitesToRefused, r.DoubleAssigned)
	_ = tw.Flush()
}
