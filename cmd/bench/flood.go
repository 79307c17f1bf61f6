package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// floodOptions size the flood benchmark.
type floodOptions struct {
	Databases []string `json:"databases"`
	// Messages is what one flooding customer sends per round, PerTxn of them to a
	// transaction; each round has a flooder of its own and a quiet phase of its own.
	Messages int `json:"messages"`
	PerTxn   int `json:"messages_per_txn"`
	Rounds   int `json:"rounds"`
	// MinSamples is the fewest samples of each kind a quiet phase takes (it takes as
	// many as the flood phase before it got, if more).
	MinSamples int `json:"min_samples"`
}

// floodResult is one database's flood benchmark.
type floodResult struct {
	Database string `json:"database"`
	What     string `json:"what"`
	// Limits are the example config's, as the service ran with them.
	CustomerEvents string `json:"customer_events_limit"`
	ServerEvents   string `json:"server_events_limit"`
	// Latencies of the quiet customers, in ms, over every round.
	QuietWelcome distribution `json:"quiet_welcome_ms"`
	FloodWelcome distribution `json:"flood_welcome_ms"`
	QuietRelay   distribution `json:"quiet_relay_ms"`
	FloodRelay   distribution `json:"flood_relay_ms"`
	// Flood / quiet, at p50 and p95 (target <= 2).
	WelcomeRatioP50 float64      `json:"welcome_ratio_p50"`
	WelcomeRatioP95 float64      `json:"welcome_ratio_p95"`
	RelayRatioP50   float64      `json:"relay_ratio_p50"`
	RelayRatioP95   float64      `json:"relay_ratio_p95"`
	Rounds          []floodRound `json:"rounds"`
}

// floodRound is what became of one flood.
type floodRound struct {
	Round int `json:"round"`
	Sent  int `json:"sent"`
	// Handled: inbox rows of the flood settled cleanly (handled without error, or over
	// the limit on receipt; none given up).
	Handled int `json:"handled"`
	// Admitted: messages the limit let through (relayed to the desk room), Delivered
	// the ones whose desk copy reached the homeserver; nothing admitted may be lost.
	Admitted  int `json:"admitted"`
	Delivered int `json:"delivered"`
	// AllowedMin and AllowedMax are what the token bucket allows over the seconds
	// the flood took to receive: the burst, plus one per interval, give or take one.
	HandlingSeconds float64 `json:"handling_seconds"`
	AllowedMin      int     `json:"allowed_min"`
	AllowedMax      int     `json:"allowed_max"`
	SlowDownNotices int     `json:"slow_down_notices"`
	FloodSeconds    float64 `json:"flood_seconds"`
	Samples         int     `json:"samples_under_flood"`
	OK              bool    `json:"ok"`
}

const floodAbout = "the service on the fake homeserver with the example config's limits; per round a new customer floods " +
	"(its messages back to back, as a homeserver pushes them) while the benchmark measures, one at a time and alternately, " +
	"a quiet customer's relay (message pushed until its desk copy reached the homeserver) and a new customer's welcome " +
	"(invite pushed until the first event of the service in the new room reached the homeserver); then the same " +
	"without a flood. The loss check: every flood message handled cleanly, every one the limit admitted relayed and " +
	"delivered, and as many admitted as the token bucket allows (events over the limit are settled on receipt)"

// measureFlood runs the flood benchmark on each database.
func measureFlood(ctx context.Context, opts floodOptions, pg *pgcluster.Cluster, inner, log zerolog.Logger) ([]*floodResult, error) {
	var out []*floodResult
	for _, db := range opts.Databases {
		var dbPG *pgcluster.Cluster
		if db == "postgres" {
			dbPG = pg
		}
		res, err := floodOnce(ctx, opts, db, dbPG, inner, log)
		if err != nil {
			return nil, fmt.Errorf("flood on %s: %w", db, err)
		}
		out = append(out, res)
	}
	return out, nil
}

func floodOnce(ctx context.Context, opts floodOptions, db string, pg *pgcluster.Cluster, inner, log zerolog.Logger) (*floodResult, error) {
	limits := config.Example().Limits
	// Flooders are rooms 0..Rounds-1, the quiet customers whose messages are relayed
	// come after, taking turns (each is held to the same limit: one customer sending
	// every sample would be slowed down by it); new customers for welcomes come from
	// room 10000 on.
	w := workload{Rooms: opts.Rounds + quietCustomers}
	o, err := startOurs(ctx, w, pg, true, inner, func(cfg *config.Config) { cfg.Limits = limits })
	if err != nil {
		return nil, err
	}
	defer o.close()
	res := &floodResult{Database: db, What: floodAbout,
		CustomerEvents: fmt.Sprintf("%d, then 1 per %s", limits.CustomerEvents.Burst, limits.CustomerEvents.Every),
		ServerEvents:   fmt.Sprintf("%d, then 1 per %s", limits.ServerEvents.Burst, limits.ServerEvents.Every)}
	s := &floodSampler{o: o, nextNew: 10000}
	for i := opts.Rounds; i < w.Rooms; i++ {
		desk, err := o.deskOf(ctx, room(i))
		if err != nil {
			return nil, err
		}
		s.quiet = append(s.quiet, quietCustomer{room: i, desk: desk})
	}
	var quietWelcome, floodWelcome, quietRelay, floodRelay []float64
	for r := range opts.Rounds {
		round, welcome, relay, err := s.floodPhase(ctx, opts, r)
		if err != nil {
			return nil, err
		}
		floodWelcome, floodRelay = append(floodWelcome, welcome...), append(floodRelay, relay...)
		if err = s.check(ctx, limits.CustomerEvents, &round); err != nil {
			return nil, err
		}
		res.Rounds = append(res.Rounds, round)
		n := max(opts.MinSamples, len(welcome), len(relay))
		welcome, relay, err = s.quietPhase(ctx, n)
		if err != nil {
			return nil, err
		}
		quietWelcome, quietRelay = append(quietWelcome, welcome...), append(quietRelay, relay...)
		log.Info().Str("database", db).Int("round", r+1).Int("admitted", round.Admitted).Int("delivered", round.Delivered).
			Bool("ok", round.OK).Int("samples_under_flood", round.Samples).Msg("Flood round done")
	}
	res.QuietWelcome, res.FloodWelcome = distributionOf(quietWelcome), distributionOf(floodWelcome)
	res.QuietRelay, res.FloodRelay = distributionOf(quietRelay), distributionOf(floodRelay)
	res.WelcomeRatioP50, res.WelcomeRatioP95 = res.FloodWelcome.P50/res.QuietWelcome.P50, res.FloodWelcome.P95/res.QuietWelcome.P95
	res.RelayRatioP50, res.RelayRatioP95 = res.FloodRelay.P50/res.QuietRelay.P50, res.FloodRelay.P95/res.QuietRelay.P95
	return res, nil
}

// quietCustomers take turns sending the relay samples.
const quietCustomers = 20

type quietCustomer struct {
	room int
	desk id.RoomID
}

// floodSampler takes the quiet customers' samples.
type floodSampler struct {
	o        *ours
	quiet    []quietCustomer
	nextNew  int
	relaySeq int
}

// deskOf is the desk room of the open conversation of a customer room.
func (o *ours) deskOf(ctx context.Context, roomID string) (id.RoomID, error) {
	conv, err := o.svc.DB.Conversation.Open(ctx, id.RoomID(roomID))
	if err != nil || conv == nil {
		return "", fmt.Errorf("no open conversation in %s: %v", roomID, err)
	}
	return conv.DeskRoom, nil
}

// floodPhase starts round r's flood and samples until it has been sent and handled.
func (s *floodSampler) floodPhase(ctx context.Context, opts floodOptions, r int) (round floodRound, welcome, relay []float64, err error) {
	round = floodRound{Round: r + 1, Sent: opts.Messages}
	txns := floodTxns(r, opts.Messages, opts.PerTxn)
	sent := make(chan error, 1)
	begin := time.Now()
	go func() {
		client := newDriver(1)
		defer client.CloseIdleConnections()
		_, err := sendAll(ctx, client, s.o.baseURL(), fmt.Sprintf("flood%d-", r), txns, 1)
		sent <- err
	}()
	sending := true
	for {
		ms, err := s.relaySample(ctx)
		if err != nil {
			return round, nil, nil, err
		}
		relay = append(relay, ms)
		if ms, err = s.welcomeSample(ctx); err != nil {
			return round, nil, nil, err
		}
		welcome = append(welcome, ms)
		if sending {
			select {
			case err := <-sent:
				if err != nil {
					return round, nil, nil, fmt.Errorf("flood: %w", err)
				}
				sending = false
			default:
			}
		}
		if !sending {
			pending, err := s.o.svc.DB.Inbox.CountPending(ctx)
			if err != nil {
				return round, nil, nil, err
			}
			if pending == 0 {
				break
			}
		}
	}
	round.FloodSeconds = time.Since(begin).Seconds()
	round.Samples = len(relay)
	return round, welcome, relay, nil
}

// quietPhase takes n samples of each kind with no flood.
func (s *floodSampler) quietPhase(ctx context.Context, n int) (welcome, relay []float64, err error) {
	for range n {
		ms, err := s.relaySample(ctx)
		if err != nil {
			return nil, nil, err
		}
		relay = append(relay, ms)
		if ms, err = s.welcomeSample(ctx); err != nil {
			return nil, nil, err
		}
		welcome = append(welcome, ms)
	}
	return welcome, relay, nil
}

// relaySample pushes one message of the quiet customer and waits for its desk copy.
func (s *floodSampler) relaySample(ctx context.Context) (float64, error) {
	s.relaySeq++
	q := s.quiet[s.relaySeq%len(s.quiet)]
	before := s.o.fake.SendsIn(q.desk.String())
	body := txnBody(map[string]any{
		"type": "m.room.message", "sender": customer(q.room), "room_id": room(q.room),
		"event_id": fmt.Sprintf("$quiet%d", s.relaySeq), "origin_server_ts": time.Now().UnixMilli(),
		"content": map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("Where is my order? (%d)", s.relaySeq)},
	})
	return s.timed(ctx, fmt.Sprintf("quiet-%d", s.relaySeq), body, func() bool { return s.o.fake.SendsIn(q.desk.String()) > before })
}

// welcomeSample is a new customer's invite until the service's first event in the
// room (the welcome) reached the homeserver.
func (s *floodSampler) welcomeSample(ctx context.Context) (float64, error) {
	i := s.nextNew
	s.nextNew++
	s.o.fake.SetMembership(room(i), customer(i), "join")
	s.o.fake.SetMembership(room(i), businessUser, "invite")
	body := inviteTxns(workload{Rooms: i + 1})[i]
	return s.timed(ctx, fmt.Sprintf("welcome-%d", i), body, func() bool { return s.o.fake.SendsIn(room(i)) > 0 })
}

// timed pushes one transaction and polls until arrived.
func (s *floodSampler) timed(ctx context.Context, txnID string, body []byte, arrived func() bool) (float64, error) {
	client := newDriver(1)
	defer client.CloseIdleConnections()
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	begin := time.Now()
	if err := putTxn(waitCtx, client, s.o.baseURL(), txnID, body); err != nil {
		return 0, err
	}
	if err := pollUntil(waitCtx, time.Millisecond, func() (bool, error) { return arrived(), nil }); err != nil {
		return 0, fmt.Errorf("%s: %w", txnID, err)
	}
	return ms(time.Since(begin)), nil
}

// check is the loss check of round r, once its relays are sent.
func (s *floodSampler) check(ctx context.Context, limit config.RateConfig, round *floodRound) error {
	db := s.o.svc.DB
	r := round.Round - 1
	desk, err := s.o.deskOf(ctx, room(r))
	if err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err = pollUntil(waitCtx, 10*time.Millisecond, func() (bool, error) {
		n, err := db.Outbox.CountPending(ctx)
		return n == 0, err
	}); err != nil {
		return fmt.Errorf("outbox not drained after flood %d: %w", round.Round, err)
	}
	prefix := fmt.Sprintf("$flood%d-", r)
	var first, last, firstIn, lastIn int64
	// Events over the limit are settled on receipt, with the reason kept; anything
	// else with an error was given up.
	err = db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MIN(handled_at), 0), COALESCE(MAX(handled_at), 0),
			COALESCE(MIN(received_at), 0), COALESCE(MAX(received_at), 0) FROM inbox
		WHERE event_key LIKE $1 AND handled_at IS NOT NULL AND (last_error IS NULL OR last_error = $2)`,
		prefix+"%", database.OverLimitReason).Scan(&round.Handled, &first, &last, &firstIn, &lastIn)
	if err == nil {
		err = db.QueryRow(ctx, `SELECT COUNT(*), COUNT(sent_at) FROM outbox WHERE dedupe_key LIKE $1`,
			fmt.Sprintf("relay|%s|%s%%", desk, prefix)).Scan(&round.Admitted, &round.Delivered)
	}
	if err == nil {
		err = db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'slow-down|%' AND room_id = $1`, room(r)).Scan(&round.SlowDownNotices)
	}
	if err != nil {
		return err
	}
	round.HandlingSeconds = float64(last-first) / 1000
	// The limit is applied as the flood is received: the bucket refills over that.
	refill := int(time.Duration(lastIn-firstIn) * time.Millisecond / limit.Every)
	round.AllowedMin = min(round.Sent, limit.Burst+refill-1)
	round.AllowedMax = min(round.Sent, limit.Burst+refill+2)
	round.OK = round.Handled == round.Sent && round.Delivered == round.Admitted &&
		round.Admitted >= round.AllowedMin && round.Admitted <= round.AllowedMax
	return nil
}

// floodTxns are flood round r's messages from customer r in room r, perTxn a
// transaction.
func floodTxns(r, n, perTxn int) [][]byte {
	ts := time.Now().UnixMilli()
	var out [][]byte
	for start := 0; start < n; start += perTxn {
		var evts []any
		for i := start; i < min(start+perTxn, n); i++ {
			evts = append(evts, map[string]any{
				"type": "m.room.message", "sender": customer(r), "room_id": room(r),
				"event_id": fmt.Sprintf("$flood%d-%d", r, i), "origin_server_ts": ts,
				"content": map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("flood %d", i)},
			})
		}
		out = append(out, txnBody(evts...))
	}
	return out
}

// printFlood prints the flood benchmark's figures.
func printFlood(out io.Writer, sz *floodOptions, all []*floodResult) {
	if len(all) == 0 {
		return
	}
	fmt.Fprintf(out, "\n== Flood: %d rounds of %d messages from one customer (%d a transaction)\n   %s\n", sz.Rounds, sz.Messages, sz.PerTxn, all[0].What)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "database\tquiet customer\tn quiet\tp50 ms\tp95 ms\tn flood\tp50 ms\tp95 ms\tflood/quiet p50\tp95\t")
	for _, r := range all {
		for _, row := range []struct {
			name         string
			quiet, flood distribution
			p50, p95     float64
		}{{"welcome", r.QuietWelcome, r.FloodWelcome, r.WelcomeRatioP50, r.WelcomeRatioP95}, {"relay", r.QuietRelay, r.FloodRelay, r.RelayRatioP50, r.RelayRatioP95}} {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%.2f\t%.2f\t\n", r.Database, row.name,
				row.quiet.N, row.quiet.P50, row.quiet.P95, row.flood.N, row.flood.P50, row.flood.P95, row.p50, row.p95)
		}
	}
	tw.Flush()
	for _, r := range all {
		fmt.Fprintf(out, "  %s limits: customer events %s, server events %s\n", r.Database, r.CustomerEvents, r.ServerEvents)
		for _, rd := range r.Rounds {
			fmt.Fprintf(out, "  %s round %d: sent %d, handled %d, admitted %d (the bucket allows %d-%d over %.2f s), delivered %d, slow-down notices %d, flood %.2f s, %d samples under it: ok=%v\n",
				r.Database, rd.Round, rd.Sent, rd.Handled, rd.Admitted, rd.AllowedMin, rd.AllowedMax, rd.HandlingSeconds, rd.Delivered, rd.SlowDownNotices, rd.FloodSeconds, rd.Samples, rd.OK)
		}
	}
}
