package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/fakehs"
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
	// welcomes is how many sends setup caused, so verify can count later ones.
	welcomes int
}

// idleConns overrides database.max_idle_conns when positive (-db-idle-conns).
var idleConns int

// dbCounter names each PostgreSQL database of a process uniquely.
var dbCounter atomic.Int64

// startOurs starts the service on a fresh database and opens w.Rooms conversations,
// each through the invite a customer's homeserver would deliver, and waits for every
// welcome: the measured phase then sees a service in its steady state.
func startOurs(ctx context.Context, w workload, pg *pgcluster.Cluster, encryption bool, log zerolog.Logger) (_ *ours, err error) {
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
	cfg := config.Example()
	cfg.Path = filepath.Join(o.dir, "config.yaml")
	cfg.Appservice.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.Appservice.Address = "http://" + cfg.Appservice.Listen
	cfg.Appservice.ASToken, cfg.Appservice.HSToken, cfg.Appservice.SenderLocalpart = asToken, hsToken, senderLocalpart
	// The example's staff live on example.com; their control rooms are not measured.
	for i := range cfg.Tenants {
		cfg.Tenants[i].Staff = nil
	}
	// With encryption on (the default config) each business identity gets a device
	// and a /sync loop; the rooms stay unencrypted, so no event is decrypted.
	cfg.Encryption.Enabled, cfg.Encryption.PickleKey = encryption, "bench-pickle-key"
	cfg.Privacy.PseudonymKey = "bench-pseudonym-key"
	if idleConns > 0 {
		cfg.Database.MaxIdleConns = idleConns
	}
	if pg == nil {
		cfg.Database.Type, cfg.Database.URI = "sqlite", filepath.Join(o.dir, "contactcenter.db")
	} else {
		cfg.Database.Type = "postgres"
		if cfg.Database.URI, err = pg.CreateDatabase(ctx, fmt.Sprintf("bench_%d_%d", os.Getpid(), dbCounter.Add(1))); err != nil {
			return nil, err
		}
	}
	o.fake, err = fakehs.Start(fakehs.Options{
		ASToken: asToken, Domain: domain, SenderLocalpart: senderLocalpart,
		AppserviceURL: cfg.Appservice.Address, HSToken: hsToken, Log: log,
	})
	if err != nil {
		return nil, err
	}
	cfg.Homeserver.Address, cfg.Homeserver.Domain = o.fake.URL, domain
	if err = cfg.Validate(true); err != nil {
		return nil, fmt.Errorf("bench config: %w", err)
	}
	svc := bridge.New(cfg, log)
	if err = svc.Start(log.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("starting the service: %w", err)
	}
	o.svc = svc
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
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err = o.fake.WaitSends(waitCtx, w.Rooms); err != nil {
		return nil, fmt.Errorf("waiting for the welcomes: %w", err)
	}
	for i := range w.Rooms {
		if n := o.fake.SendsIn(room(i)); n != 1 {
			return nil, fmt.Errorf("%s got %d welcomes, want 1", room(i), n)
		}
	}
	o.welcomes = o.fake.Sends()
	// Let the outbox record its sends before the clock starts.
	err = pollUntil(waitCtx, pollInterval, func() (bool, error) {
		inbox, err := svc.DB.Inbox.CountPending(ctx)
		if err != nil {
			return false, err
		}
		outbox, err := svc.DB.Outbox.CountPending(ctx)
		return inbox == 0 && outbox == 0, err
	})
	return o, err
}

func (o *ours) baseURL() string { return "http://" + o.svc.Addr() }

// waitHandled polls the inbox: every event is in it once its transaction got 200 (the
// driver has seen all of those), so no pending row means all were handled.
func (o *ours) waitHandled(ctx context.Context, _ int) error {
	return pollUntil(ctx, pollInterval, func() (bool, error) {
		n, err := o.svc.DB.Inbox.CountPending(ctx)
		return n == 0, err
	})
}

// verify checks that each measured event was handled once and at the first attempt,
// and reports the sends the service made for them (none in this version: relaying to
// agents comes later, and the benchmark will show it when it does).
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
	return o.fake.Sends() - o.welcomes, nil
}

func (o *ours) unrecognized() map[string]int { return o.fake.Unrecognized() }

// arm is a no-op: the inbox itself tells when all is handled.
func (o *ours) arm(int) {}

// stats shows the connection pool's churn: connections closed because more than
// max_idle_conns were idle must be opened again, which costs a PostgreSQL backend or a
// SQLite schema parse each time.
func (o *ours) stats() map[string]int64 {
	st := o.svc.DB.RawDB.Stats()
	return map[string]int64{
		"db_open_connections": int64(st.OpenConnections), "db_closed_max_idle": st.MaxIdleClosed,
		"db_wait_count": st.WaitCount, "db_wait_ms": st.WaitDuration.Milliseconds(),
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
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not a TCP address")
	}
	return addr.Port, nil
}
