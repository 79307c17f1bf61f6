package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/fakehs"
	"github.com/contactcenter/contactcenter/testbed"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// pollInterval is how often the benchmark asks the service's database whether
// everything was handled; it bounds the clock's error for our service.
const pollInterval = 2 * time.Millisecond

// ours is the contact center service on the fake homeserver.
type ours struct {
	svc  *bridge.Bridge
	fake *fakehs.Server
	dir  string
	// setupSends and setupCounts are what setup caused, so that the measured phase's
	// own requests can be told apart.
	setupSends  int
	setupCounts map[string]int
}

// idleConns overrides database.max_idle_conns when positive (-db-idle-conns).
var idleConns int

// setupSendsPerRoom is what a new conversation sends into its customer room: the
// welcome, the consent poll, its text, 6 reaction buttons (3 categories for an
// anonymous customer, all, none, remember) and the place in the queue.
const setupSendsPerRoom = 10

// dbCounter names each PostgreSQL database of a process uniquely.
var dbCounter atomic.Int64

// startOurs starts the service on a fresh database and opens w.Rooms conversations,
// each through the invite a customer's homeserver would deliver, and waits until
// every conversation exists and everything it sent at the start (welcome, side room
// introduction, the rooms' place in the tenant's space) reached the homeserver: the
// measured phase then sees a service in its steady state.
func startOurs(ctx context.Context, w workload, pg *pgcluster.Cluster, encryption bool, log zerolog.Logger, configure ...func(*config.Config)) (_ *ours, err error) {
	o := &ours{}
	defer func() {
		if err != nil {
			o.close()
		}
	}()
	if o.dir, err = os.MkdirTemp("", "ccbench-"); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	// The fake pings the service back at the address it will listen on.
	o.fake, err = fakehs.Start(fakehs.Options{
		ASToken: asToken, Domain: domain, SenderLocalpart: senderLocalpart,
		AppserviceURL: "http://" + listen, HSToken: hsToken, Log: log,
	})
	if err != nil {
		return nil, err
	}
	cfg, err := benchConfig(ctx, o.dir, listen, o.fake.URL, pg, encryption)
	if err != nil {
		return nil, err
	}
	for _, change := range configure {
		change(cfg)
	}
	svc := bridge.New(cfg, log)
	if err = svc.Start(log.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("starting the service: %w", err)
	}
	o.svc = svc
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Conversations started before the tenant's space exists are not put in it:
	// without this wait, some runs would send two state events per conversation
	// more than others.
	if err = waitSpaces(waitCtx, svc); err != nil {
		return nil, fmt.Errorf("waiting for the tenants' spaces: %w", err)
	}
	for i := range w.Rooms {
		// What federation would have told the business server about the DM.
		o.fake.SetMembership(room(i), customer(i), "join")
		o.fake.SetMembership(room(i), businessUser, "invite")
	}
	client := newDriver(1)
	defer client.CloseIdleConnections()
	if _, err = sendAll(ctx, client, "http://"+svc.Addr(), "setup-", inviteTxns(w), 1); err != nil {
		return nil, err
	}
	if err = waitSettled(waitCtx, svc.DB, w.Rooms); err != nil {
		return nil, fmt.Errorf("waiting for the conversations: %w", err)
	}
	// Each customer room gets the welcome, the consent prompt (a poll, its text with
	// the service's reactions as buttons) and, from the routing loop within a second or
	// two, its place in the queue: wait for all of it, so the measured phase sees only
	// what the workload causes.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		short := ""
		for i := range w.Rooms {
			if n := o.fake.SendsIn(room(i)); n != setupSendsPerRoom {
				short = fmt.Sprintf("%s got %d events at the start, want %d", room(i), n, setupSendsPerRoom)
				break
			}
		}
		if short == "" {
			break
		} else if time.Now().After(deadline) {
			return nil, errors.New(short)
		}
	}
	o.setupSends, o.setupCounts = o.fake.Sends(), o.fake.Counts()
	return o, nil
}

// benchConfig is the example config pointed at the fake homeserver at hsURL, on
// SQLite in dir or on a fresh PostgreSQL database, listening on listen.
func benchConfig(ctx context.Context, dir, listen, hsURL string, pg *pgcluster.Cluster, encryption bool) (*config.Config, error) {
	cfg := config.Example()
	cfg.Path = filepath.Join(dir, "config.yaml")
	cfg.Appservice.Listen = listen
	cfg.Appservice.Address = "http://" + cfg.Appservice.Listen
	cfg.Appservice.ASToken, cfg.Appservice.HSToken, cfg.Appservice.SenderLocalpart = asToken, hsToken, senderLocalpart
	// The example's staff live on example.com; their control rooms are not measured.
	for i := range cfg.Tenants {
		cfg.Tenants[i].Staff = nil
	}
	// With encryption on (the default config) each business identity gets a device
	// and a /sync loop; the rooms stay unencrypted, so no event is decrypted.
	cfg.Encryption.Enabled, cfg.Encryption.PickleKey = encryption, "bench-pickle-key-5Gh8Rt2Xc9Vb4Nm1Qz7Lp3Wk6Jd0Fs"
	cfg.Privacy.PseudonymKey = "bench-pseudonym-key-9Fd2Kq7Xz4Cv1Bn8Lm5Rw3Ty6Hg0Ps"
	// The workloads flood on purpose: they measure the cost of an event, not the
	// abuse limits.
	cfg.Limits = config.LimitsConfig{}
	if idleConns > 0 {
		cfg.Database.MaxIdleConns = idleConns
	}
	if pg == nil {
		cfg.Database.Type, cfg.Database.URI = "sqlite", filepath.Join(dir, "contactcenter.db")
	} else {
		cfg.Database.Type = "postgres"
		var err error
		if cfg.Database.URI, err = pg.CreateDatabase(ctx, fmt.Sprintf("bench_%d_%d", os.Getpid(), dbCounter.Add(1))); err != nil {
			return nil, err
		}
	}
	cfg.Homeserver.Address, cfg.Homeserver.Domain = hsURL, domain
	if err := cfg.Validate(true); err != nil {
		return nil, fmt.Errorf("bench config: %w", err)
	}
	return cfg, nil
}

// waitSpaces waits until every tenant has its space, which the service creates in the
// background after start-up.
func waitSpaces(ctx context.Context, svc *bridge.Bridge) error {
	return pollUntil(ctx, 10*time.Millisecond, func() (bool, error) {
		for _, t := range svc.Config.Tenants {
			if space, err := svc.DB.TenantSpace.Get(ctx, t.ID); err != nil || space == nil {
				return false, err
			}
		}
		return true, nil
	})
}

// waitSettled waits until n conversations exist and nothing is pending in the inbox
// or the outbox.
func waitSettled(ctx context.Context, db *database.Database, n int) error {
	return pollUntil(ctx, 10*time.Millisecond, func() (bool, error) {
		var convs int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM conversation`).Scan(&convs); err != nil || convs < n {
			return false, err
		}
		inbox, err := db.Inbox.CountPending(ctx)
		if err != nil || inbox > 0 {
			return false, err
		}
		outbox, err := db.Outbox.CountPending(ctx)
		return outbox == 0, err
	})
}

func (o *ours) baseURL() string { return "http://" + o.svc.Addr() }

// waitHandled returns when every measured event has been handled and every copy it
// caused has reached the homeserver; handled is when the inbox was empty. Every event
// is in the inbox once its transaction got 200 (the driver has seen all of those), so
// no pending row means all were handled, and the copies queued are the outbox's relay
// rows: the clock stops when the homeserver has the last of them, as it does for the
// echo baseline.
func (o *ours) waitHandled(ctx context.Context, _ int) (handled time.Time, err error) {
	err = pollUntil(ctx, pollInterval, func() (bool, error) {
		pending, err := o.svc.DB.Inbox.AnyPending(ctx)
		return !pending, err
	})
	if err != nil {
		return time.Time{}, err
	}
	handled = time.Now()
	var queued int
	if err = o.svc.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'relay|%'`).Scan(&queued); err != nil {
		return handled, err
	}
	return handled, o.fake.WaitSends(ctx, o.setupSends+queued)
}

// verify checks that each measured event was handled once and at the first attempt,
// that every copy was sent at the first attempt and recorded in the event map, and
// reports the sends the service made for them: a customer message is relayed into
// the conversation's desk room (as the customer's ghost) and mirrored into its side
// room (as the business identity), so two per message.
func (o *ours) verify(ctx context.Context, events int) (int, error) {
	var clean, total int
	err := o.svc.DB.QueryRow(ctx, `SELECT COUNT(*) FROM inbox WHERE event_key LIKE '$msg%'`).Scan(&total)
	if err != nil {
		return 0, err
	}
	err = o.svc.DB.QueryRow(ctx, `SELECT COUNT(*) FROM inbox WHERE event_key LIKE '$msg%'
		AND handled_at IS NOT NULL AND attempts = 0 AND last_error IS NULL`).Scan(&clean)
	if err != nil {
		return 0, err
	}
	if total != events || clean != events {
		return 0, fmt.Errorf("inbox has %d measured events, %d handled cleanly; want %d", total, clean, events)
	}
	// The last send reached the fake a moment before the outbox recorded it.
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err = pollUntil(waitCtx, pollInterval, func() (bool, error) {
		pending, err := o.svc.DB.Outbox.AnyPending(ctx)
		return !pending, err
	}); err != nil {
		return 0, fmt.Errorf("outbox not drained: %w", err)
	}
	var relayed, copies, retried int
	err = o.svc.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT origin_event), COUNT(copy_event) FROM event_map WHERE origin_event LIKE '$msg%'`).Scan(&relayed, &copies)
	if err == nil {
		err = o.svc.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'relay|%' AND attempts > 0`).Scan(&retried)
	}
	if err != nil {
		return 0, err
	}
	sends := o.fake.Sends() - o.setupSends
	if relayed != events || copies != sends || retried > 0 {
		return 0, fmt.Errorf("%d of %d events relayed, %d copies recorded for %d sends, %d sends retried", relayed, events, copies, sends, retried)
	}
	return sends, nil
}

func (o *ours) unrecognized() map[string]int { return o.fake.Unrecognized() }

// arm is a no-op: the inbox itself tells when all is handled.
func (o *ours) arm(int) {}

// stats shows the connection pool's churn (connections closed because more than
// max_idle_conns were idle must be opened again, which costs a PostgreSQL backend or
// a SQLite schema parse each time) and what the measured phase asked of the
// homeserver.
func (o *ours) stats() map[string]int64 {
	st := o.svc.DB.RawDB.Stats()
	out := map[string]int64{
		"db_open_connections": int64(st.OpenConnections), "db_closed_max_idle": st.MaxIdleClosed,
		"db_wait_count": st.WaitCount, "db_wait_ms": st.WaitDuration.Milliseconds(),
	}
	addCounts(out, o.fake.Counts(), o.setupCounts)
	return out
}

// addCounts adds the fake homeserver's request counts since `since` as hs_<kind>.
func addCounts(out map[string]int64, now, since map[string]int) {
	for kind, n := range now {
		if d := n - since[kind]; d > 0 {
			out["hs_"+kind] = int64(d)
		}
	}
}

func (o *ours) close() {
	if o.svc != nil {
		o.svc.Stop()
	}
	if o.fake != nil {
		o.fake.Close()
	}
	if o.dir != "" {
		_ = os.RemoveAll(o.dir)
	}
}

// freePort picks a port for the service's listener. The service opens the listener
// itself, and the fake homeserver must know the address before (for the ping).
func freePort() (int, error) { return testbed.FreePort() }
