package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// target is an appservice under test, started and with its rooms set up.
type target interface {
	baseURL() string
	// arm announces how many events the measured phase sends.
	arm(events int)
	// waitHandled returns once every measured event has been handled and everything
	// the target sends because of them has reached the homeserver; handled is when
	// the handling itself was done (the same for a target that sends while handling).
	waitHandled(ctx context.Context, events int) (handled time.Time, err error)
	// verify checks the run after the clock stopped and returns how many events the
	// appservice sent because of the measured events.
	verify(ctx context.Context, events int) (sends int, err error)
	unrecognized() map[string]int
	// stats are internal counters worth a look (database pool churn), or nil.
	stats() map[string]int64
	close()
}

// variant is one appservice configuration compared in the throughput benchmark.
type variant struct {
	Name  string
	About string
	start func(ctx context.Context, w workload) (target, error)
}

// Variant names, used for ratios.
const (
	oursSQLite    = "ours-sqlite"
	oursPostgres  = "ours-postgres"
	bareNoEcho    = "bare-noecho"
	bareEcho      = "bare-echo"
	simpleRelayPG = "simple-relay-postgres"
)

func variants(pg *pgcluster.Cluster, encryption bool, log zerolog.Logger) []variant {
	vs := []variant{{
		Name: oursSQLite, About: "this service on SQLite (temp dir, WAL, synchronous=NORMAL: no fsync per commit): every event stored in the inbox before the 200, then handled in per-room order, each event's writes in a savepoint of a group-committed DB transaction, which queue two copies in the outbox (desk room as the customer's ghost, side-room mirror as the business identity) and the event map; each copy sent in order per room and recorded sent behind the send (group-committed too); encryption device and /sync loop on, rooms unencrypted",
		start: func(ctx context.Context, w workload) (target, error) { return startOurs(ctx, w, nil, encryption, log) },
	}}
	if pg != nil {
		vs = append(vs, variant{
			Name: oursPostgres, About: "the same on PostgreSQL (testbed/pgcluster: unix socket, fsync and synchronous_commit off)",
			start: func(ctx context.Context, w workload) (target, error) { return startOurs(ctx, w, pg, encryption, log) },
		}, variant{
			Name: simpleRelayPG, About: "a reference, not a contact center: the simplest durable relay on PostgreSQL (cmd/bench/simplerelay.go), the bare appservice storing each transaction's messages (one INSERT) before the 200, then per message one statement (inbox row handled, two copies queued), two sends, one statement (both recorded sent); 16 workers, a room always on the same one; no leases, no conversation, no event map",
			start: func(ctx context.Context, w workload) (target, error) { return startBare(ctx, w, true, pg, log) },
		})
	}
	return append(vs, variant{
		Name: bareNoEcho, About: "bare mautrix appservice: 200 once the events are in an in-memory channel (lost on a crash), Sync event processor, handler only counts",
		start: func(ctx context.Context, w workload) (target, error) { return startBare(ctx, w, false, nil, log) },
	}, variant{
		Name: bareEcho, About: "the same, handler sends one m.notice echo per message through an intent (one HTTP send each, nothing recorded)",
		start: func(ctx context.Context, w workload) (target, error) { return startBare(ctx, w, true, nil, log) },
	})
}

// throughputRun is one measured phase.
type throughputRun struct {
	Round          int     `json:"round"`
	Seconds        float64 `json:"seconds"`         // first PUT until every event handled and every send it caused arrived
	AckedSeconds   float64 `json:"acked_seconds"`   // first PUT until the last 200
	HandledSeconds float64 `json:"handled_seconds"` // first PUT until every event handled (ours: the copies are queued, not yet sent)
	EventsPerS     float64 `json:"events_per_s"`
	TxnsPerS       float64 `json:"txns_per_s"`
	Sends          int     `json:"sends"` // events the appservice sent for the measured events
	SendsPerS      float64 `json:"sends_per_s"`
	// TxnLatencyMS is how long the homeserver waited for each 200: with one transaction
	// in flight, it bounds how fast events can reach the appservice at all.
	TxnLatencyMS latencies        `json:"txn_latency_ms"`
	Unrecognized map[string]int   `json:"unrecognized,omitempty"`
	Stats        map[string]int64 `json:"stats,omitempty"`
}

// measureOnce starts a fresh target (untimed), sends the measured transactions with
// `concurrency` senders and stops the clock when the target has handled them all.
func measureOnce(ctx context.Context, v variant, w workload, concurrency, round int) (*throughputRun, error) {
	t, err := v.start(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("%s: setup: %w", v.Name, err)
	}
	defer t.close()
	bodies := messageTxns(w)
	client := newDriver(concurrency)
	defer client.CloseIdleConnections()
	t.arm(w.total())
	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	begin := time.Now()
	latencies, err := sendAll(runCtx, client, t.baseURL(), "m-", bodies, concurrency)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.Name, err)
	}
	acked := time.Since(begin)
	handled, err := t.waitHandled(runCtx, w.total())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.Name, err)
	}
	took := time.Since(begin)

	run := &throughputRun{
		Round: round, Seconds: took.Seconds(), AckedSeconds: acked.Seconds(), HandledSeconds: handled.Sub(begin).Seconds(),
		EventsPerS: float64(w.total()) / took.Seconds(), TxnsPerS: float64(w.Txns) / took.Seconds(),
		Unrecognized: t.unrecognized(), Stats: t.stats(),
		TxnLatencyMS: latencySummary(latencies),
	}
	if run.Sends, err = t.verify(ctx, w.total()); err != nil {
		return nil, fmt.Errorf("%s: %w", v.Name, err)
	}
	run.SendsPerS = float64(run.Sends) / took.Seconds()
	return run, nil
}

type latencies struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func latencySummary(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Sorted(slices.Values(ds))
	return latencies{P50: ms(s[len(s)/2]), P99: ms(s[len(s)*99/100]), Max: ms(s[len(s)-1])}
}

// series is every run of one variant at one concurrency.
type series struct {
	Variant     string          `json:"variant"`
	About       string          `json:"about"`
	Concurrency int             `json:"concurrency"`
	Runs        []throughputRun `json:"runs"`
	EventsPerS  summary         `json:"events_per_s"`
	TxnsPerS    summary         `json:"txns_per_s"`
}

// measureThroughput runs every variant `rounds` times per concurrency, interleaved
// (A B C D, then D C B A, ...) so that the machine's drifting load hits all variants
// alike; each round's variants are compared with each other (see ratios).
func measureThroughput(ctx context.Context, vs []variant, w workload, concurrencies []int, rounds int, log zerolog.Logger) ([]*series, error) {
	var out []*series
	for _, c := range concurrencies {
		byName := map[string]*series{}
		for _, v := range vs {
			s := &series{Variant: v.Name, About: v.About, Concurrency: c}
			byName[v.Name] = s
			out = append(out, s)
		}
		for r := range rounds {
			order := slices.Clone(vs)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, v := range order {
				run, err := measureOnce(ctx, v, w, c, r+1)
				if err != nil {
					return nil, err
				}
				if len(run.Unrecognized) > 0 {
					log.Warn().Str("variant", v.Name).Interface("requests", run.Unrecognized).Msg("The fake homeserver got requests it does not implement; figures may be off")
				}
				log.Info().Str("variant", v.Name).Int("concurrency", c).Int("round", r+1).
					Float64("events_per_s", run.EventsPerS).Float64("seconds", run.Seconds).Msg("Throughput run done")
				byName[v.Name].Runs = append(byName[v.Name].Runs, *run)
			}
		}
	}
	for _, s := range out {
		var eps, tps []float64
		for _, r := range s.Runs {
			eps, tps = append(eps, r.EventsPerS), append(tps, r.TxnsPerS)
		}
		s.EventsPerS, s.TxnsPerS = summarize(eps), summarize(tps)
	}
	return out, nil
}

// ratio compares two variants in events/s, round by round.
type ratio struct {
	Name        string    `json:"name"`
	Concurrency int       `json:"concurrency"`
	PerRound    []float64 `json:"per_round"`
	Summary     summary   `json:"summary"`
}

func ratios(all []*series) []ratio {
	find := func(name string, c int) *series {
		for _, s := range all {
			if s.Variant == name && s.Concurrency == c {
				return s
			}
		}
		return nil
	}
	var out []ratio
	for _, s := range all {
		if s.Variant != oursSQLite && s.Variant != oursPostgres && s.Variant != simpleRelayPG {
			continue
		}
		for _, base := range []string{bareNoEcho, bareEcho} {
			b := find(base, s.Concurrency)
			if b == nil {
				continue
			}
			r := ratio{Name: s.Variant + " / " + base, Concurrency: s.Concurrency}
			for i := range min(len(s.Runs), len(b.Runs)) {
				r.PerRound = append(r.PerRound, s.Runs[i].EventsPerS/b.Runs[i].EventsPerS)
			}
			r.Summary = summarize(r.PerRound)
			out = append(out, r)
		}
	}
	return out
}
