package database_test

// Claims under concurrency: several handles on one database, as replicas of the
// service would have.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// openReplicas opens n handles on one fresh database of the given type.
func openReplicas(tb testing.TB, dbType string, n int) []*database.Database {
	tb.Helper()
	cfg := dbtest.Config(tb, dbType)
	cfg.MaxOpenConns = 12
	handles := make([]*database.Database, n)
	for i := range handles {
		handles[i] = dbtest.OpenConfig(tb, cfg)
	}
	return handles
}

// TestSkipLockedAndAgentLocks: on PostgreSQL a conversation one replica is claiming
// is invisible to the other's queue and refused to its claims at once; claims on one
// agent wait for each other; a refused claim in a longer transaction keeps no lock.
func TestSkipLockedAndAgentLocks(t *testing.T) {
	dbs := openReplicas(t, "postgres", 2)
	a, b := dbs[0], dbs[1]
	qa, qb := a.Conversation, b.Conversation
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := startConversations(t, a, "acme", "locks", 4)
	if won, err := qa.Assign(ctx, "acme", c[3], carol, 1, claimEpoch); !won || err != nil {
		t.Fatal("carol's first", won, err)
	}
	inTxn, release, done := make(chan error), make(chan struct{}), make(chan error)
	go func() {
		done <- a.DoTxn(ctx, nil, func(ctx context.Context) error {
			waiting, err := qa.Claimable(ctx, "acme", 1)
			if err != nil || len(waiting) != 1 || waiting[0].ID != c[0] {
				return fmt.Errorf("replica A's queue head = %v, %v", waiting, err)
			}
			if won, err := qa.Assign(ctx, "acme", c[0], carol, 1, claimEpoch); won || err != nil { // full
				return fmt.Errorf("carol beyond capacity: %v, %v", won, err)
			}
			if won, err := qa.Assign(ctx, "acme", c[0], dave, 1, claimEpoch); !won || err != nil {
				return fmt.Errorf("dave: %v, %v", won, err)
			}
			inTxn <- nil
			<-release
			return nil
		})
	}()
	if err := <-inTxn; err != nil {
		t.Fatal(err)
	}
	quick, cancelQuick := context.WithTimeout(ctx, 2*time.Second)
	defer cancelQuick()
	if waiting, err := qb.Claimable(quick, "acme", 1); err != nil || len(waiting) != 1 || waiting[0].ID != c[1] {
		t.Fatalf("replica B's queue head = %v, %v; want the next conversation", waiting, err)
	}
	if won, err := qb.Offer(quick, "acme", c[0], "@erin:x", 5, claimEpoch); won || err != nil {
		t.Fatalf("a conversation being claimed elsewhere: %v, %v; want false at once", won, err)
	}
	// Carol's refused attempt in A was rolled back to its savepoint: her row is free.
	if won, err := qb.Assign(quick, "acme", c[1], carol, 2, claimEpoch); !won || err != nil {
		t.Fatalf("carol, whose refused claim in A is over: %v, %v", won, err)
	}
	// Dave's row stays locked by A's successful claim until A commits.
	daveDone := make(chan bool, 1)
	go func() {
		won, err := qb.Assign(ctx, "acme", c[2], dave, 1, claimEpoch)
		if err != nil {
			t.Error(err)
		}
		daveDone <- won
	}()
	select {
	case <-daveDone:
		t.Fatal("a claim on dave did not wait for A's open claim on him")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if won := <-daveDone; won {
		t.Fatal("after A committed dave is at capacity 1: the waiting claim must see it")
	}
}

// replicaRun is conversations of one tenant served by agents through claims on
// several handles at once, while customers leave after a while.
type replicaRun struct {
	dbs      []*database.Database
	tenant   string
	convs    int
	agents   []id.UserID
	capacity int
	workers  int           // per replica
	stay     time.Duration // at most, before the customer leaves; 0: never
	check    bool          // check the agent's load inside each claim's transaction
	// contend: half the workers read the queue outside a transaction and claim on
	// their own, and half the time a worker starts from the first agent. Otherwise
	// every worker claims the queue's head in a transaction, from a random agent on.
	contend bool

	mu       sync.Mutex
	claimed  map[int64]id.UserID
	attempts atomic.Int64
	errs     chan error
	stop     context.CancelFunc
}

// fail keeps the first failure and stops the run.
func (r *replicaRun) fail(err error) {
	select {
	case r.errs <- err:
	default:
	}
	r.stop()
}

// run serves every conversation; it returns the first failure.
func (r *replicaRun) run(ctx context.Context) error {
	r.claimed = map[int64]id.UserID{}
	r.errs = make(chan error, 1)
	ctx, r.stop = context.WithCancel(ctx)
	defer r.stop()
	var workers, leaving sync.WaitGroup
	for i, db := range r.dbs {
		q := db.Conversation
		for w := range r.workers {
			workers.Go(func() {
				r.work(ctx, db, q, r.contend && w%2 == 1, rand.New(rand.NewPCG(uint64(i), uint64(w))), &leaving)
			})
		}
	}
	workers.Wait()
	leaving.Wait()
	select {
	case err := <-r.errs:
		return err
	default:
	}
	if len(r.claimed) != r.convs {
		return fmt.Errorf("%d of %d conversations served: %w", len(r.claimed), r.convs, ctx.Err())
	}
	return nil
}

func (r *replicaRun) done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.claimed) == r.convs
}

// work takes the queue's head and tries agents in turn. Half the
// workers hold the head locked in a transaction while trying; the others read the
// queue outside any transaction and claim each conversation on its own.
func (r *replicaRun) work(ctx context.Context, db *database.Database, q *database.ConversationQuery, standalone bool, rng *rand.Rand, leaving *sync.WaitGroup) {
	for !r.done() && ctx.Err() == nil {
		var convID int64
		var agent id.UserID
		tryAgents := func(ctx context.Context, conv int64) error {
			// Half the time every worker starts from the same agent, as routers ranking
			// agents alike would: they race for that agent's last free place.
			start := rng.IntN(len(r.agents))
			if r.contend && rng.IntN(2) == 0 {
				start = 0
			}
			for i := range r.agents {
				candidate := r.agents[(start+i)%len(r.agents)]
				r.attempts.Add(1)
				won, err := q.Assign(ctx, r.tenant, conv, candidate, r.capacity, time.Now())
				if err != nil || !won {
					if err != nil {
						return err
					}
					continue
				}
				convID, agent = conv, candidate
				if r.check {
					return checkLoad(ctx, db, r.tenant, candidate, r.capacity, "in the claim's transaction")
				}
				return nil
			}
			return nil
		}
		var err error
		if standalone {
			var waiting []*database.Conversation
			if waiting, err = q.Claimable(ctx, r.tenant, 3); err == nil && len(waiting) > 0 {
				err = tryAgents(ctx, waiting[rng.IntN(len(waiting))].ID)
			}
		} else {
			err = db.DoTxn(ctx, nil, func(ctx context.Context) error {
				waiting, err := q.Claimable(ctx, r.tenant, 1)
				if err != nil || len(waiting) == 0 {
					return err
				}
				return tryAgents(ctx, waiting[0].ID)
			})
		}
		if err != nil {
			if ctx.Err() == nil {
				r.fail(err)
			}
			return
		}
		if agent == "" {
			time.Sleep(time.Duration(200+rng.IntN(800)) * time.Microsecond)
			continue
		}
		r.record(convID, agent)
		if r.check {
			if err = checkLoad(ctx, db, r.tenant, agent, r.capacity, "after the claim's commit"); err != nil {
				r.fail(err)
			}
		}
		if r.stay > 0 {
			stay := time.Duration(rng.Int64N(int64(r.stay)))
			leaving.Go(func() {
				time.Sleep(stay)
				r.leave(ctx, db, convID, agent)
			})
		}
	}
}

func (r *replicaRun) record(convID int64, agent id.UserID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if first, ok := r.claimed[convID]; ok {
		r.fail(fmt.Errorf("conversation %d assigned twice: to %s, then to %s", convID, first, agent))
	}
	r.claimed[convID] = agent
}

// leave ends the conversation as the bridge does when the customer leaves.
func (r *replicaRun) leave(ctx context.Context, db *database.Database, convID int64, agent id.UserID) {
	err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
		now := time.Now()
		if closed, err := db.Conversation.Close(ctx, convID, now); err != nil || !closed {
			return fmt.Errorf("close %d: %v, %w", convID, closed, err)
		}
		return db.Participants.Remove(ctx, convID, agent, now)
	})
	if err != nil && ctx.Err() == nil {
		r.fail(err)
	}
}

const agentLoadCheck = `
	SELECT COUNT(*) FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
	WHERE c.tenant_id = $1 AND s.user_id = $2 AND c.status <> 'closed' AND s.role = 'agent' AND s.removed_at IS NULL`

func checkLoad(ctx context.Context, db *database.Database, tenant string, agent id.UserID, capacity int, when string) error {
	var load int
	if err := db.QueryRow(ctx, agentLoadCheck, tenant, agent).Scan(&load); err != nil {
		return err
	}
	if load > capacity {
		return fmt.Errorf("%s serves %d conversations %s, capacity %d", agent, load, when, capacity)
	}
	return nil
}

// overloaded and doubled look at the whole tenant in one statement, one snapshot.
const (
	overloadedCheck = `
		SELECT s.user_id, COUNT(*) FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
		WHERE c.tenant_id = $1 AND c.status <> 'closed' AND s.role = 'agent' AND s.removed_at IS NULL
		GROUP BY s.user_id HAVING COUNT(*) > $2`
	doubledCheck = `
		SELECT s.conversation_id, COUNT(*) FROM conversation_staff s JOIN conversation c ON c.id = s.conversation_id
		WHERE c.tenant_id = $1 AND s.role = 'agent' GROUP BY s.conversation_id HAVING COUNT(*) > 1`
)

// watch checks the whole tenant over and over until stop is closed.
func watch(ctx context.Context, db *database.Database, tenant string, capacity int, stop <-chan struct{}) (checks int, err error) {
	for {
		for _, check := range []struct {
			what  string
			query string
			args  []any
		}{{"above capacity", overloadedCheck, []any{tenant, capacity}}, {"served by two agents", doubledCheck, []any{tenant}}} {
			var key string
			var n int
			err := db.QueryRow(ctx, check.query, check.args...).Scan(&key, &n)
			if err == nil {
				return checks, fmt.Errorf("%s %s: %d", key, check.what, n)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return checks, err
			}
		}
		checks++
		select {
		case <-stop:
			return checks, nil
		default:
		}
	}
}

func TestTwoReplicasNeverDoubleAssign(t *testing.T) {
	for _, dbType := range []string{"postgres", "sqlite"} {
		t.Run(dbType, func(t *testing.T) {
			dbs := openReplicas(t, dbType, 2)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r := &replicaRun{dbs: dbs, tenant: "acme", convs: 200, capacity: 3, workers: 4, stay: 300 * time.Millisecond, check: true, contend: true}
			for i := range 20 {
				r.agents = append(r.agents, id.UserID(fmt.Sprintf("@agent%02d:x", i)))
			}
			c := startConversations(t, dbs[0], r.tenant, "race", r.convs)
			for i, conv := range c {
				if err := dbs[0].Conversation.SetTask(ctx, conv, "", i%3); err != nil {
					t.Fatal(err)
				}
			}
			stop := make(chan struct{})
			var checks int
			var watchErr error
			var watcher sync.WaitGroup
			watcher.Go(func() { checks, watchErr = watch(ctx, dbs[1], r.tenant, r.capacity, stop) })
			start := time.Now()
			err := r.run(ctx)
			close(stop)
			watcher.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if watchErr != nil {
				t.Fatal(watchErr)
			}
			// Every conversation: closed, served by the agent the log names, once.
			for _, convID := range c {
				conv := mustGet(t, dbs[1], convID)
				var agentRows int
				if err = dbs[1].QueryRow(ctx, `SELECT COUNT(*) FROM conversation_staff WHERE conversation_id = $1 AND role = 'agent'`, convID).Scan(&agentRows); err != nil {
					t.Fatal(err)
				}
				if conv.Status != database.StatusClosed || conv.Agent != r.claimed[convID] || agentRows != 1 {
					t.Fatalf("conversation %d: %+v, %d agent rows; the log says %s", convID, conv, agentRows, r.claimed[convID])
				}
			}
			t.Logf("%s: %d conversations served in %v, %d claim attempts, %d whole-tenant checks", dbType, r.convs, time.Since(start).Round(time.Millisecond), r.attempts.Load(), checks)
		})
	}
}

// BenchmarkClaims: 1000 waiting conversations assigned to 100 agents (capacity 20)
// by one or two replicas, each with its own handle and workers.
func BenchmarkClaims(b *testing.B) {
	for _, bc := range []struct{ replicas, workers int }{{1, 4}, {2, 2}, {2, 4}} {
		b.Run(fmt.Sprintf("replicas=%d/workers=%d", bc.replicas, bc.workers), func(b *testing.B) {
			dbs := openReplicas(b, "postgres", bc.replicas)
			var agents []id.UserID
			for i := range 100 {
				agents = append(agents, id.UserID(fmt.Sprintf("@agent%03d:x", i)))
			}
			var elapsed time.Duration
			var claims, attempts int64
			for i := range b.N {
				b.StopTimer()
				tenant := fmt.Sprintf("t%d", i)
				startConversations(b, dbs[0], tenant, "bench", 1000)
				r := &replicaRun{dbs: dbs, tenant: tenant, convs: 1000, agents: agents, capacity: 20, workers: bc.workers}
				b.StartTimer()
				start := time.Now()
				if err := r.run(context.Background()); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				claims += int64(r.convs)
				attempts += r.attempts.Load()
			}
			b.ReportMetric(float64(claims)/elapsed.Seconds(), "claims/s")
			b.ReportMetric(float64(attempts)/float64(claims), "attempts/claim")
		})
	}
}
