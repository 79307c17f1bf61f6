package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// The routing part times one routing pass over a tenant on the service's own code
// path, database reads included: "resync" is a pass that first re-reads the whole
// tenant into its router (three tenant-wide reads and a loop over the staff, what the
// tick does), "pass" one that trusts the router (what a change asks for). No agent is
// free (half are away, half offline), so a pass changes nothing and can be repeated.

type routingOptions struct {
	Staff     []int    `json:"staff"`
	Waiting   int      `json:"waiting"`
	Runs      int      `json:"runs"`
	Databases []string `json:"databases"`
}

type routingResult struct {
	Database string  `json:"database"`
	Staff    int     `json:"staff"`
	ResyncMS summary `json:"resync_ms"`
	PassMS   summary `json:"pass_ms"`
	// Ratio is resync ÷ pass, the median of the per-round ratios.
	Ratio summary `json:"ratio"`
}

const routingTenant = "bench"

func measureRouting(ctx context.Context, opts routingOptions, pg *pgcluster.Cluster, log zerolog.Logger) ([]*routingResult, error) {
	var out []*routingResult
	for _, dbType := range opts.Databases {
		for _, n := range opts.Staff {
			res, err := routingOnce(ctx, dbType, n, opts, pg)
			if err != nil {
				return nil, fmt.Errorf("routing, %s, %d staff: %w", dbType, n, err)
			}
			log.Info().Str("db", dbType).Int("staff", n).Float64("resync_ms", res.ResyncMS.Median).
				Float64("pass_ms", res.PassMS.Median).Float64("ratio", res.Ratio.Median).Msg("Routing pass measured")
			out = append(out, res)
		}
	}
	return out, nil
}

func routingOnce(ctx context.Context, dbType string, staff int, opts routingOptions, pg *pgcluster.Cluster) (*routingResult, error) {
	db, cleanup, err := openRoutingDB(ctx, dbType, staff, pg)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cfg := routingConfig(staff)
	if err = fillRoutingDB(ctx, db, &cfg.Tenants[0], opts.Waiting); err != nil {
		return nil, err
	}
	b, err := bridge.RoutingOnly(cfg, db)
	if err != nil {
		return nil, err
	}
	if err = b.RoutingPass(ctx, routingTenant, true); err != nil { // warm up, and the router in line
		return nil, err
	}
	timed := func(resync bool) (float64, error) {
		start := time.Now()
		err := b.RoutingPass(ctx, routingTenant, resync)
		return float64(time.Since(start).Microseconds()) / 1000, err
	}
	var resyncs, passes, ratios []float64
	for round := range opts.Runs {
		var r, p float64
		// Interleaved, the order alternating, so that drift hits both alike.
		if round%2 == 0 {
			if r, err = timed(true); err == nil {
				p, err = timed(false)
			}
		} else if p, err = timed(false); err == nil {
			r, err = timed(true)
		}
		if err != nil {
			return nil, err
		}
		resyncs, passes, ratios = append(resyncs, r), append(passes, p), append(ratios, r/max(p, 0.001))
	}
	return &routingResult{Database: dbType, Staff: staff, ResyncMS: summarize(resyncs), PassMS: summarize(passes), Ratio: summarize(ratios)}, nil
}

func openRoutingDB(ctx context.Context, dbType string, staff int, pg *pgcluster.Cluster) (*database.Database, func(), error) {
	cfg := database.Config{Type: dbType}
	cleanup := func() {}
	switch dbType {
	case "postgres":
		if pg == nil {
			return nil, nil, fmt.Errorf("no PostgreSQL")
		}
		uri, err := pg.CreateDatabase(ctx, fmt.Sprintf("bench_routing_%d_%d", os.Getpid(), staff))
		if err != nil {
			return nil, nil, err
		}
		cfg.URI = uri
	default:
		dir, err := os.MkdirTemp("", "bench-routing-")
		if err != nil {
			return nil, nil, err
		}
		cfg.URI, cleanup = filepath.Join(dir, "cc.db"), func() { _ = os.RemoveAll(dir) }
	}
	db, err := database.Open(cfg, zerolog.Nop())
	if err == nil {
		err = db.Upgrade(ctx)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return db, func() { _ = db.Close(); cleanup() }, nil
}

func routingConfig(staff int) *config.Config {
	tenant := config.Tenant{ID: routingTenant, Name: "Bench", BusinessLocalpart: "bench", DisplayName: "Bench"}
	for i := range staff {
		tenant.Staff = append(tenant.Staff, routing.Staff{UserID: fmt.Sprintf("@agent%d:biz.example", i), Name: fmt.Sprintf("Agent %d", i),
			Role: routing.RoleAgent, Capacity: 2, Languages: []string{"en"}})
	}
	return &config.Config{Homeserver: config.HomeserverConfig{Domain: "biz.example"}, Tenants: []config.Tenant{tenant}}
}

// fillRoutingDB gives every agent a control room and a status (away or offline), and
// opens waiting conversations.
func fillRoutingDB(ctx context.Context, db *database.Database, tenant *config.Tenant, waiting int) error {
	now := time.Now()
	return db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for i, s := range tenant.Staff {
			user := id.UserID(s.UserID)
			status := routing.Away
			if i%2 == 1 {
				status = routing.Offline
			}
			if err := db.Staff.SetControlRoom(ctx, tenant.ID, user, id.RoomID(fmt.Sprintf("!control%d:biz.example", i))); err != nil {
				return err
			}
			if err := db.Staff.SetStatus(ctx, tenant.ID, user, status, now); err != nil {
				return err
			}
		}
		for i := range waiting {
			room := id.RoomID(fmt.Sprintf("!customer%d:home.example", i))
			customer := id.UserID(fmt.Sprintf("@customer%d:home.example", i))
			if err := db.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: room, TenantID: tenant.ID, Customer: customer, JoinedAt: now}); err != nil {
				return err
			}
			if _, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: tenant.ID, RoomID: room,
				Ghost: id.UserID(fmt.Sprintf("@_cc_g%d:biz.example", i))}, now.Add(-time.Duration(i)*time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
}

func printRouting(out io.Writer, sizes *routingOptions, res []*routingResult) {
	if len(res) == 0 {
		return
	}
	fmt.Fprintf(out, "\n== A routing pass, %d waiting conversations, no agent free; %d runs each, interleaved (ms)\n", sizes.Waiting, sizes.Runs)
	fmt.Fprintln(out, "   resync: the whole tenant re-read first (the tick); pass: the router trusted (a change)")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "db\tstaff\tresync median\tpass median\tresync ÷ pass (median)\tmin\tmax\t")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t\n", r.Database, r.Staff, r.ResyncMS.Median, r.PassMS.Median, r.Ratio.Median, r.Ratio.Min, r.Ratio.Max)
	}
	tw.Flush()
	// The pass should not grow with the staff: compare the largest with the smallest.
	byDB := map[string][]*routingResult{}
	for _, r := range res {
		byDB[r.Database] = append(byDB[r.Database], r)
	}
	for _, db := range slices.Sorted(maps.Keys(byDB)) {
		rs := byDB[db]
		if len(rs) < 2 {
			continue
		}
		lo, hi := rs[0], rs[len(rs)-1]
		fmt.Fprintf(out, "%s: %d ÷ %d staff: resync %.1f×, pass %.1f×\n", db, hi.Staff, lo.Staff,
			hi.ResyncMS.Median/max(lo.ResyncMS.Median, 0.001), hi.PassMS.Median/max(lo.PassMS.Median, 0.001))
	}
}
