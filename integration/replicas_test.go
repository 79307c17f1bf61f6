package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/fakehs"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// The replicas test's world: one fake business homeserver, customers on another server
// (the service only sees them through transactions), 20 agents of 10 places each, so
// 200 customers fill every place exactly.
const (
	replicaDomain      = "replicas.local"
	replicaBusiness    = "@acme:" + replicaDomain
	replicaASToken     = "replicas-as-token-4Tq9Zx7LmP2Wc8Rv6Yb3Nk5Hd1Gf0Js"
	replicaHSToken     = "replicas-hs-token-8Kp3Vb6Xn1Qz9Wm4Rc7Ty2Lh5Dg0Fs"
	replicaSender      = "replicassender"
	replicaAgents      = 20
	replicaCapacity    = 10
	replicaCustomers   = replicaAgents * replicaCapacity
	replicaSenders     = 4 // transactions in flight per replica
	replicaWatchEvery  = 20 * time.Millisecond
	replicaServeWithin = 2 * time.Minute
)

// replicaWorkflow assigns directly: no offers to answer, so every claim is the race.
const replicaWorkflow = "steps: [{queue: everyone}]\ndirect: true\n"

func replicaAgent(i int) id.UserID { return id.UserID(fmt.Sprintf("@agent%02d:%s", i, replicaDomain)) }
func replicaCustomer(i int) string { return fmt.Sprintf("@cust%d:remote.example", i) }
func replicaRoom(i int) string     { return fmt.Sprintf("!replica%d:remote.example", i) }

// TestTwoServiceReplicas: two service processes on one PostgreSQL database, 200
// customers arriving at once (half through each replica), 20 ready agents of capacity
// 10 and direct assignment. While they are assigned a watcher checks the database
// every 20 ms: no agent above capacity, no conversation with two agents. In the end
// every conversation has exactly one agent, every agent exactly 10, and both replicas
// assigned some.
func TestTwoServiceReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, _, err := pgcluster.Shared(ctx)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	dbURI, err := cluster.CreateDatabase(ctx, fmt.Sprintf("cc_replicas_%d_%d", os.Getpid(), dbCounter.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	listens := [2]string{replicaListen(t), replicaListen(t)}
	// The fake pushes (pings) one appservice URL, as a homeserver behind which the
	// replicas sit would reach one of them; transactions are sent by the test below.
	fake, err := fakehs.Start(fakehs.Options{
		ASToken: replicaASToken, Domain: replicaDomain, SenderLocalpart: replicaSender,
		AppserviceURL: "http://" + listens[0], HSToken: replicaHSToken, Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)

	// One after the other: both would otherwise upgrade the empty schema at once.
	var replicas [2]*bridge.Bridge
	var logs [2]*replicaLog
	for i, name := range []string{"A", "B"} {
		logs[i] = &replicaLog{t: t, name: name, assigned: map[int64]int{}, problems: map[string]int{}}
		log := zerolog.New(logs[i]).Level(zerolog.InfoLevel).With().Timestamp().Logger()
		svc := bridge.New(replicaConfig(t, listens[i], fake.URL, dbURI), log)
		if err := svc.Start(log.WithContext(ctx)); err != nil {
			t.Fatalf("starting replica %s: %v", name, err)
		}
		t.Cleanup(svc.Stop)
		replicas[i] = svc
	}
	db := replicas[0].DB

	// Agents are ready once the service has their control rooms (created by either
	// replica); readiness is set in the database, as !ready would.
	eventually(t, 30*time.Second, "control rooms of every agent", func() (bool, error) {
		staff, err := db.Staff.OfTenant(ctx, "acme")
		n := 0
		for _, s := range staff {
			if s.ControlRoomID != "" {
				n++
			}
		}
		return n == replicaAgents, err
	})
	for i := range replicaAgents {
		if err := db.Staff.SetStatus(ctx, "acme", replicaAgent(i), routing.Ready, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	bodies := make([][]byte, replicaCustomers)
	for i := range bodies {
		// What federation would have told the business server about the DM.
		fake.SetMembership(replicaRoom(i), replicaCustomer(i), "join")
		fake.SetMembership(replicaRoom(i), replicaBusiness, "invite")
		bodies[i] = replicaInvite(i)
	}

	w := startReplicaWatcher(ctx, db)
	begin := time.Now()
	var wg sync.WaitGroup
	sendErrs := make([]error, 2)
	for r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Replica A gets the even customers, B the odd ones.
			var half [][]byte
			for i := r; i < len(bodies); i += 2 {
				half = append(half, bodies[i])
			}
			sendErrs[r] = sendReplicaTxns(ctx, "http://"+replicas[r].Addr(), fmt.Sprintf("r%d-", r), half)
		}()
	}
	wg.Wait()
	acked := time.Since(begin)
	if err := errors.Join(sendErrs...); err != nil {
		w.stop()
		t.Fatalf("delivering the invites: %v", err)
	}
	var assigned int
	eventually(t, replicaServeWithin, "every conversation assigned", func() (bool, error) {
		err := db.QueryRow(ctx, `SELECT COUNT(*) FROM conversation WHERE status = 'assigned'`).Scan(&assigned)
		return assigned == replicaCustomers, err
	})
	served := time.Since(begin)
	checks, violations := w.stop()
	t.Logf("200 customers: all transactions acknowledged after %s, all served (assigned) after %s; watcher ran %d checks",
		acked.Round(time.Millisecond), served.Round(time.Millisecond), checks)

	for _, v := range violations {
		t.Errorf("watcher saw: %s", v)
	}
	checkReplicaAssignments(ctx, t, db)
	checkReplicaContactLog(ctx, t, replicas[:])
	checkBothReplicasAssigned(t, logs)
	logReplicaSideEffects(ctx, t, db, fake)
	for i, l := range logs {
		l.mu.Lock()
		if len(l.problems) > 0 {
			t.Logf("replica %s warnings and errors (count by message): %v", []string{"A", "B"}[i], l.problems)
		}
		l.mu.Unlock()
	}
}

// replicaConfig is the example config with one tenant, 20 agents and direct
// assignment, pointed at the fake homeserver and the shared database.
func replicaConfig(t *testing.T, listen, hsURL, dbURI string) *config.Config {
	t.Helper()
	cfg := config.Example()
	cfg.Path = filepath.Join(t.TempDir(), "config.yaml")
	cfg.Appservice.Listen, cfg.Appservice.Address = listen, "http://"+listen
	cfg.Appservice.ASToken, cfg.Appservice.HSToken, cfg.Appservice.SenderLocalpart = replicaASToken, replicaHSToken, replicaSender
	cfg.Encryption.PickleKey = "replicas-pickle-key-7Hn2Qw9Xc4Vb1Zm6Lp3Rt8Ky5Jd0Gs"
	cfg.Privacy.PseudonymKey = "replicas-pseudonym-key-3Wd8Nq1Zx6Cv9Bm4Lk7Rp2Ty5Hg0Fs"
	cfg.Database.Type, cfg.Database.URI = "postgres", dbURI
	cfg.Homeserver.Address, cfg.Homeserver.Domain = hsURL, replicaDomain
	cfg.Tenants = cfg.Tenants[:1]
	tenant := &cfg.Tenants[0]
	tenant.Staff = nil
	for i := range replicaAgents {
		tenant.Staff = append(tenant.Staff, routing.Staff{
			UserID: replicaAgent(i).String(), Name: fmt.Sprintf("Agent %02d", i), Role: routing.RoleAgent, Capacity: replicaCapacity,
		})
	}
	var wf routing.Workflow
	if err := yaml.Unmarshal([]byte(replicaWorkflow), &wf); err != nil {
		t.Fatal(err)
	}
	tenant.Workflow, tenant.ConsentWait = &wf, 0
	cfg.Metrics.Listen = "127.0.0.1:0"
	if err := cfg.Validate(true); err != nil {
		t.Fatalf("replica config: %v", err)
	}
	return cfg
}

// replicaInvite is the transaction a homeserver sends when customer i invites the
// business identity to a DM, which starts a conversation.
func replicaInvite(i int) []byte {
	body, err := json.Marshal(map[string]any{"events": []any{map[string]any{
		"type": "m.room.member", "state_key": replicaBusiness, "sender": replicaCustomer(i), "room_id": replicaRoom(i),
		"event_id": fmt.Sprintf("$replicainvite%d", i), "origin_server_ts": time.Now().UnixMilli(),
		"content": map[string]any{"membership": "invite", "is_direct": true},
	}}})
	if err != nil {
		panic(err)
	}
	return body
}

// sendReplicaTxns PUTs the transactions to one replica, replicaSenders at once.
func sendReplicaTxns(ctx context.Context, baseURL, prefix string, bodies [][]byte) error {
	client := &http.Client{Timeout: time.Minute}
	defer client.CloseIdleConnections()
	jobs := make(chan int)
	errs := make([]error, replicaSenders)
	var wg sync.WaitGroup
	for s := range replicaSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fakehs.PushTransaction(ctx, client, baseURL, replicaHSToken, fmt.Sprintf("%s%d", prefix, i), bodies[i]); err != nil && errs[s] == nil {
					errs[s] = err
				}
			}
		}()
	}
	for i := range bodies {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// replicaWatcher checks the database's invariants while conversations are assigned.
type replicaWatcher struct {
	done       chan struct{}
	finished   chan struct{}
	checks     int
	violations []string
}

const (
	// Agents above capacity, counting what the claims count as served.
	overCapacityQuery = `
		SELECT s.user_id, COUNT(*) FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
		WHERE s.role = 'agent' AND s.removed_at IS NULL AND c.status <> 'closed'
		GROUP BY s.user_id HAVING COUNT(*) > $1`
	// Conversations with more than one current agent.
	doubleAgentQuery = `
		SELECT conversation_id, COUNT(*) FROM conversation_staff
		WHERE role = 'agent' AND removed_at IS NULL
		GROUP BY conversation_id HAVING COUNT(*) > 1`
)

// startReplicaWatcher checks every replicaWatchEvery until stop.
func startReplicaWatcher(ctx context.Context, db *database.Database) *replicaWatcher {
	w := &replicaWatcher{done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(w.finished)
		ticker := time.NewTicker(replicaWatchEvery)
		defer ticker.Stop()
		for {
			w.checks++
			w.violations = append(w.violations, watchQuery(ctx, db, overCapacityQuery, "agent %s has %d open conversations, capacity 10", replicaCapacity)...)
			w.violations = append(w.violations, watchQuery(ctx, db, doubleAgentQuery, "conversation %s has %d current agents")...)
			select {
			case <-w.done:
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return w
}

// stop ends the watching and returns how often it checked and what it saw.
func (w *replicaWatcher) stop() (int, []string) {
	close(w.done)
	<-w.finished
	return w.checks, w.violations
}

// watchQuery runs a query of (name, count) rows, each one a violation.
func watchQuery(ctx context.Context, db *database.Database, query, format string, args ...any) []string {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return []string{fmt.Sprintf("query failed: %v", err)}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return append(out, fmt.Sprintf("scan failed: %v", err))
		}
		out = append(out, fmt.Sprintf(format, name, n))
	}
	if err := rows.Err(); err != nil {
		out = append(out, fmt.Sprintf("rows failed: %v", err))
	}
	return out
}

// checkReplicaAssignments: 200 conversations, each with exactly one current agent
// row, the one the conversation names, and every agent with exactly 10.
func checkReplicaAssignments(ctx context.Context, t *testing.T, db *database.Database) {
	t.Helper()
	var convs int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM conversation`).Scan(&convs); err != nil {
		t.Fatal(err)
	}
	if convs != replicaCustomers {
		t.Errorf("%d conversations, want %d", convs, replicaCustomers)
	}
	rows, err := db.Query(ctx, `
		SELECT c.id, COALESCE(c.agent_user_id, ''), COUNT(s.user_id), COALESCE(MIN(s.user_id), '')
		FROM conversation c LEFT JOIN conversation_staff s
			ON s.conversation_id = c.id AND s.role = 'agent' AND s.removed_at IS NULL
		GROUP BY c.id, c.agent_user_id ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	perAgent := map[string]int{}
	for rows.Next() {
		var convID int64
		var agent, rowAgent string
		var agentRows int
		if err := rows.Scan(&convID, &agent, &agentRows, &rowAgent); err != nil {
			t.Fatal(err)
		}
		if agentRows != 1 || agent != rowAgent {
			t.Errorf("conversation %d: agent %q, %d current agent rows (first %q); want exactly one, the same", convID, agent, agentRows, rowAgent)
		}
		perAgent[agent]++
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	for i := range replicaAgents {
		if n := perAgent[replicaAgent(i).String()]; n != replicaCapacity {
			t.Errorf("%s serves %d conversations, want %d", replicaAgent(i), n, replicaCapacity)
		}
	}
}

// checkBothReplicasAssigned reads who announced which assignment. The log line is
// written inside the claiming transaction, so a rolled-back transaction may have
// logged one that did not happen: repeats are reported, not failed on.
func checkBothReplicasAssigned(t *testing.T, logs [2]*replicaLog) {
	t.Helper()
	announced := map[int64]string{}
	for _, l := range logs {
		l.mu.Lock()
		lines := 0
		for conv, n := range l.assigned {
			lines += n
			if other, ok := announced[conv]; ok || n > 1 {
				t.Logf("conversation %d announced as assigned %d times by replica %s (also by %q)", conv, n, l.name, other)
			}
			announced[conv] += l.name
		}
		t.Logf("replica %s logged %d assignments (%d conversations)", l.name, lines, len(l.assigned))
		if len(l.assigned) == 0 {
			t.Errorf("replica %s assigned nothing", l.name)
		}
		l.mu.Unlock()
	}
	if len(announced) != replicaCustomers {
		t.Errorf("%d conversations announced as assigned, want %d", len(announced), replicaCustomers)
	}
}

// logReplicaSideEffects compares, once the outbox is drained, what the homeserver
// was asked with what the database records: with room leases no event is handled by
// both replicas and one replica at a time sets a tenant up, so no room is created
// twice and no invite, state event or message is sent twice.
func logReplicaSideEffects(ctx context.Context, t *testing.T, db *database.Database, fake *fakehs.Server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	pending, err := db.Outbox.CountPending(ctx)
	for ; err == nil && pending > 0 && time.Now().Before(deadline); pending, err = db.Outbox.CountPending(ctx) {
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	var rooms, invites, states, messages, retried int
	err = db.QueryRow(ctx, `SELECT
		(SELECT COUNT(DISTINCT desk_room_id) + COUNT(DISTINCT side_room_id) FROM conversation) +
		(SELECT COUNT(control_room_id) FROM staff) + (SELECT COUNT(*) FROM tenant_space)`).Scan(&rooms)
	if err == nil {
		err = db.QueryRow(ctx, `SELECT
			COUNT(*) FILTER (WHERE event_type = 'fi.contactcenter.invite'),
			COUNT(*) FILTER (WHERE event_type = 'fi.contactcenter.state'),
			COUNT(*) FILTER (WHERE event_type NOT LIKE 'fi.contactcenter.%'),
			COUNT(*) FILTER (WHERE attempts > 0)
			FROM outbox`).Scan(&invites, &states, &messages, &retried)
	}
	if err != nil {
		t.Fatal(err)
	}
	counts := fake.Counts()
	t.Logf("outbox: %d rows still pending after the wait, %d needed a retry", pending, retried)
	t.Logf("homeserver vs database: createRoom %d for %d recorded rooms; invite %d for %d queued invites; state %d for %d queued state events (more come from room set-up); sends %d for %d queued messages",
		counts["createRoom"], rooms, counts["invite"], invites, counts["state"], states, fake.Sends(), messages)
	if counts["createRoom"] != rooms || counts["invite"] != invites || counts["state"] != states || fake.Sends() != messages {
		t.Errorf("work done twice by the replicas (see the counts above)")
	}
}

// replicaLog is one replica's log: it counts "Conversation assigned" by conversation
// and passes warnings and errors into the test's output (the first ones in full).
type replicaLog struct {
	t        *testing.T
	name     string
	mu       sync.Mutex
	assigned map[int64]int
	problems map[string]int
	shown    int
}

func (l *replicaLog) Write(p []byte) (int, error) {
	var line struct {
		Level        string `json:"level"`
		Message      string `json:"message"`
		Conversation int64  `json:"conversation"`
	}
	if err := json.Unmarshal(p, &line); err != nil {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case line.Message == "Conversation assigned":
		l.assigned[line.Conversation]++
	case line.Level == "warn" || line.Level == "error" || line.Level == "fatal":
		l.problems[line.Message]++
		if l.shown < 5 {
			l.shown++
			l.t.Logf("replica %s: %s", l.name, strings.TrimSpace(string(p)))
		}
	}
	return len(p), nil
}

// replicaListen picks a free loopback address: the fake must know the first
// replica's address before it starts.
func replicaListen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
