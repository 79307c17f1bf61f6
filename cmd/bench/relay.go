package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// relayOptions size the relay benchmarks.
type relayOptions struct {
	Databases []string `json:"databases"`
	// Messages is how many latency samples each path gets, interleaved.
	Messages int `json:"latency_messages"`
	// Burst is how many messages one throughput run sends; Rounds how many runs each
	// path gets, interleaved.
	Burst  int `json:"burst_messages"`
	Rounds int `json:"burst_rounds"`
}

// relayResult is everything measured on one deployment.
type relayResult struct {
	Database string        `json:"database"`
	SetupMS  float64       `json:"setup_ms"`
	Latency  latencyResult `json:"latency"`
	Burst    burstResult   `json:"burst"`
}

type latencyResult struct {
	What    string       `json:"what"`
	Relayed distribution `json:"relayed_ms"`
	Direct  distribution `json:"direct_ms"`
	// Bare is the same path as Relayed through the bare relay bot (barerelay.go):
	// the baseline a relay can reach.
	Bare distribution `json:"bare_relay_ms"`
	// Relayed / bare relay, and the service's own part: relayed - bare relay.
	RatioBareP50 float64 `json:"ratio_bare_p50"`
	RatioBareP95 float64 `json:"ratio_bare_p95"`
	OwnP50       float64 `json:"own_p50_ms"`
	OwnP95       float64 `json:"own_p95_ms"`
	// Relayed / direct DM (a relay pays a second homeserver trip the DM does not).
	RatioP50  float64       `json:"ratio_p50"`
	RatioP95  float64       `json:"ratio_p95"`
	AddedP50  float64       `json:"added_p50_ms"` // relayed - direct
	SamplesMS [3][]float64  `json:"samples_ms"`   // relayed, direct, bare relay, in sending order
	Customer  customerTimes `json:"customer_send_ms"`
	Hops      *hops         `json:"relayed_hops_ms,omitempty"`
}

// hops splits the relayed path's latency at the service's own timestamps (inbox
// received and handled, outbox sent; whole milliseconds, same machine clock).
type hops struct {
	// ToService: the customer's send until the service stored the transaction that
	// carried it (customer homeserver, federation, business homeserver, its push).
	ToService distribution `json:"to_service"`
	// Handling: stored until handled (the inbox wake-up, the handler, its commit).
	Handling distribution `json:"handling"`
	// Sending: handled until the desk copy's PUT was answered and recorded.
	Sending distribution `json:"sending"`
	// ToAgent: recorded until the agent's /sync delivered it.
	ToAgent distribution `json:"to_agent"`
}

// customerTimes is how long the customer's homeserver took to accept each send: it
// is part of both paths alike.
type customerTimes struct {
	Relayed distribution `json:"relayed"`
	Direct  distribution `json:"direct"`
	Bare    distribution `json:"bare_relay"`
}

type distribution struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// distributionOf summarizes samples; percentiles are nearest-rank.
func distributionOf(xs []float64) distribution {
	if len(xs) == 0 {
		return distribution{}
	}
	s := slices.Sorted(slices.Values(xs))
	rank := func(p float64) float64 { return s[max(0, int(math.Ceil(p*float64(len(s))))-1)] }
	var sum float64
	for _, x := range s {
		sum += x
	}
	return distribution{N: len(s), P50: rank(0.50), P95: rank(0.95), Mean: sum / float64(len(s)), Min: s[0], Max: s[len(s)-1]}
}

// measureRelay runs the relay benchmarks on a fresh deployment per database.
func measureRelay(ctx context.Context, opts relayOptions, pg *pgcluster.Cluster, inner, log zerolog.Logger) ([]*relayResult, error) {
	var out []*relayResult
	for _, db := range opts.Databases {
		begin := time.Now()
		bed, err := startRelayBed(ctx, db, pg, inner)
		if err != nil {
			return nil, fmt.Errorf("relay test bed on %s: %w", db, err)
		}
		res := &relayResult{Database: db, SetupMS: ms(time.Since(begin))}
		log.Info().Str("database", db).Float64("setup_ms", res.SetupMS).Msg("Relay test bed ready")
		res.Latency, err = measureLatency(ctx, bed, opts.Messages, log)
		if err == nil {
			res.Burst, err = measureBurst(ctx, bed, opts.Burst, opts.Rounds, log)
		}
		bed.close()
		if err != nil {
			return nil, fmt.Errorf("relay on %s: %w", db, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// pathOrders are the orders the paths take turns in, cycled through so that each
// goes first, second and last as often.
var pathOrders = [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {0, 2, 1}, {2, 0, 1}, {1, 0, 2}}

// measureLatency sends n messages on each path, one at a time, changing which path
// goes first, and times each from the customer's send until the agent's client has it.
func measureLatency(ctx context.Context, bed *relayBed, n int, log zerolog.Logger) (latencyResult, error) {
	res := latencyResult{What: "customer's PUT /send on the customer homeserver until the agent's /sync on the business homeserver delivers it: " +
		"relayed = customer DM with the business identity -> federation -> appservice transaction -> the service -> ghost's copy in the desk room; " +
		"bare relay = customer DM with a bare mautrix bot -> federation -> its appservice transaction -> the bot's handler -> its ghost's copy in a desk room (no database); " +
		"direct = customer DM with the agent -> federation. One message at a time, the next after the previous arrived and, after a relayed one, the service sent everything it caused (the side-room mirror); paths take turns, unencrypted rooms"}
	var sendMS [3][]float64
	var relayed []sample
	paths := bed.paths()
	for i := range n {
		for _, k := range pathOrders[i%len(pathOrders)] {
			p := paths[k]
			body := fmt.Sprintf("lat-%s-%d", p.Name, i)
			begin := time.Now()
			evtID, err := bed.send(ctx, p, body)
			if err != nil {
				return res, err
			}
			sent := time.Now()
			at, err := bed.agent.waitBody(ctx, p.to, body, setupTimeout)
			if err != nil {
				return res, fmt.Errorf("%s message %d: %w", p.Name, i, err)
			}
			if p.Name == pathRelayed {
				relayed = append(relayed, sample{evtID, begin, at})
				// The next message, of whichever path, waits until the service has sent
				// all the message caused (the side room's mirror follows the agent's copy):
				// every path has the homeservers to itself.
				if err := bed.waitOutboxEmpty(ctx); err != nil {
					return res, err
				}
			}
			res.SamplesMS[k] = append(res.SamplesMS[k], ms(at.Sub(begin)))
			sendMS[k] = append(sendMS[k], ms(sent.Sub(begin)))
		}
		if (i+1)%50 == 0 {
			log.Info().Int("messages", i+1).Int("of", n).Msg("Relay latency")
		}
	}
	res.Relayed, res.Direct, res.Bare = distributionOf(res.SamplesMS[0]), distributionOf(res.SamplesMS[1]), distributionOf(res.SamplesMS[2])
	res.Customer = customerTimes{Relayed: distributionOf(sendMS[0]), Direct: distributionOf(sendMS[1]), Bare: distributionOf(sendMS[2])}
	res.RatioP50, res.RatioP95 = res.Relayed.P50/res.Direct.P50, res.Relayed.P95/res.Direct.P95
	res.AddedP50 = res.Relayed.P50 - res.Direct.P50
	res.RatioBareP50, res.RatioBareP95 = res.Relayed.P50/res.Bare.P50, res.Relayed.P95/res.Bare.P95
	res.OwnP50, res.OwnP95 = res.Relayed.P50-res.Bare.P50, res.Relayed.P95-res.Bare.P95
	var err error
	res.Hops, err = relayedHops(ctx, bed, relayed)
	return res, err
}

// sample is one relayed message: its event ID and the benchmark's clock readings.
type sample struct {
	evtID      id.EventID
	begin, got time.Time
}

// relayedHops reads the service's timestamps of each relayed sample.
func relayedHops(ctx context.Context, bed *relayBed, samples []sample) (*hops, error) {
	var toService, handling, sending, toAgent []float64
	for _, s := range samples {
		var received, handled, sent int64
		// The agent can have the copy a moment before the service has recorded it sent.
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := pollUntil(waitCtx, 10*time.Millisecond, func() (bool, error) {
			err := bed.d.Service.DB.QueryRow(ctx, `SELECT i.received_at, COALESCE(i.handled_at, 0), COALESCE(o.sent_at, 0) FROM inbox i, outbox o
				WHERE i.event_key = $1 AND o.dedupe_key = $2`, s.evtID.String(), fmt.Sprintf("relay|%s|%s", bed.desk, s.evtID)).Scan(&received, &handled, &sent)
			return sent != 0, err
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("timestamps of %s: %w", s.evtID, err)
		}
		toService = append(toService, float64(received-s.begin.UnixMilli()))
		handling = append(handling, float64(handled-received))
		sending = append(sending, float64(sent-handled))
		toAgent = append(toAgent, float64(s.got.UnixMilli()-sent))
	}
	return &hops{ToService: distributionOf(toService), Handling: distributionOf(handling),
		Sending: distributionOf(sending), ToAgent: distributionOf(toAgent)}, nil
}

// burstRun is one path's run of the burst benchmark.
type burstRun struct {
	Round int    `json:"round"`
	Path  string `json:"path"`
	// SendSeconds is the customer's sending alone; Seconds until the last message
	// arrived at the agent's client (the clock of MsgsPerS).
	SendSeconds float64 `json:"send_seconds"`
	Seconds     float64 `json:"seconds"`
	MsgsPerS    float64 `json:"msgs_per_s"`
	Seen        int     `json:"seen"`
	Missing     int     `json:"missing"`
	Duplicates  int     `json:"duplicates"`
	// OutOfOrder counts arrivals numbered below one that arrived before them.
	OutOfOrder int `json:"out_of_order"`
	// For the relayed path, when the service had stored the last message, handled
	// it, and had the homeserver accept the last desk copy (seconds from the first
	// send, by the service's timestamps): where a backlog builds up.
	ReceivedLastS float64 `json:"service_received_last_s,omitempty"`
	HandledLastS  float64 `json:"service_handled_last_s,omitempty"`
	SentLastS     float64 `json:"desk_copy_sent_last_s,omitempty"`
}

type burstResult struct {
	What     string     `json:"what"`
	Messages int        `json:"messages"`
	Runs     []burstRun `json:"runs"`
	Relayed  summary    `json:"relayed_msgs_per_s"`
	Direct   summary    `json:"direct_msgs_per_s"`
	Bare     summary    `json:"bare_relay_msgs_per_s"`
	// Ratio is relayed / direct msgs/s, RatioBare relayed / bare relay, per round.
	Ratio     summary `json:"ratio"`
	RatioBare summary `json:"ratio_bare"`
}

// measureBurst has the customer send n messages as fast as their homeserver accepts
// them (one PUT after the other), per path, rounds times, alternating which path goes
// first, and measures until the agent's client has the last one.
func measureBurst(ctx context.Context, bed *relayBed, n, rounds int, log zerolog.Logger) (burstResult, error) {
	res := burstResult{Messages: n, What: "customer sends the messages back to back (each PUT waits for the previous answer); clock from the first PUT until the agent's client has the last; order and duplicates checked on what the agent's client received"}
	paths := bed.paths()
	var rates [3][]float64
	var ratios, ratiosBare []float64
	for r := range rounds {
		var round [3]float64
		for _, k := range pathOrders[r%len(pathOrders)] {
			run, err := burstOnce(ctx, bed, paths[k], n, r+1)
			if err != nil {
				return res, err
			}
			log.Info().Str("path", run.Path).Int("round", r+1).Float64("msgs_per_s", run.MsgsPerS).
				Int("missing", run.Missing).Int("duplicates", run.Duplicates).Int("out_of_order", run.OutOfOrder).Msg("Relay burst done")
			res.Runs = append(res.Runs, run)
			rates[k] = append(rates[k], run.MsgsPerS)
			round[k] = run.MsgsPerS
		}
		if round[1] > 0 {
			ratios = append(ratios, round[0]/round[1])
		}
		if round[2] > 0 {
			ratiosBare = append(ratiosBare, round[0]/round[2])
		}
	}
	res.Relayed, res.Direct, res.Bare = summarize(rates[0]), summarize(rates[1]), summarize(rates[2])
	res.Ratio, res.RatioBare = summarize(ratios), summarize(ratiosBare)
	return res, nil
}

func burstOnce(ctx context.Context, bed *relayBed, p path, n, round int) (burstRun, error) {
	run := burstRun{Round: round, Path: p.Name}
	prefix := fmt.Sprintf("burst%d-%s-", round, p.Name)
	begin := time.Now()
	var ids []id.EventID
	for i := range n {
		evtID, err := bed.send(ctx, p, prefix+strconv.Itoa(i))
		if err != nil {
			return run, fmt.Errorf("%s burst message %d: %w", p.Name, i, err)
		}
		ids = append(ids, evtID)
	}
	run.SendSeconds = time.Since(begin).Seconds()
	// A message that is late by more than this is reported missing, not waited for.
	run.Seen = bed.agent.waitCount(ctx, p.to, prefix, n, 30*time.Second)
	run.Missing = n - run.Seen
	var last time.Time
	seen := map[int]bool{}
	highest := -1
	for _, a := range bed.agent.arrivals(p.to, prefix) {
		k, err := strconv.Atoi(strings.TrimPrefix(a.Body, prefix))
		if err != nil || a.Sender != p.sender {
			continue
		}
		if seen[k] {
			run.Duplicates++
			continue
		}
		seen[k] = true
		if k < highest {
			run.OutOfOrder++
		}
		highest = max(highest, k)
		if a.At.After(last) {
			last = a.At
		}
	}
	if run.Seen > 0 {
		run.Seconds = last.Sub(begin).Seconds()
		run.MsgsPerS = float64(run.Seen) / run.Seconds
	}
	if p.Name == pathRelayed {
		return run, lastServiceTimes(ctx, bed, &run, begin, ids)
	}
	return run, nil
}

// lastServiceTimes reads when the service stored, handled and relayed the last of the
// burst's messages.
func lastServiceTimes(ctx context.Context, bed *relayBed, run *burstRun, begin time.Time, ids []id.EventID) error {
	var received, handled, sent int64
	for _, evtID := range ids {
		var r, h, s int64
		err := bed.d.Service.DB.QueryRow(ctx, `SELECT i.received_at, COALESCE(i.handled_at, 0), COALESCE(o.sent_at, 0) FROM inbox i, outbox o
			WHERE i.event_key = $1 AND o.dedupe_key = $2`, evtID.String(), fmt.Sprintf("relay|%s|%s", bed.desk, evtID)).Scan(&r, &h, &s)
		if err != nil {
			return fmt.Errorf("timestamps of %s: %w", evtID, err)
		}
		received, handled, sent = max(received, r), max(handled, h), max(sent, s)
	}
	since := func(ms int64) float64 { return float64(ms-begin.UnixMilli()) / 1000 }
	run.ReceivedLastS, run.HandledLastS, run.SentLastS = since(received), since(handled), since(sent)
	return nil
}

// waitOutboxEmpty returns once the service has nothing left to send.
func (b *relayBed) waitOutboxEmpty(ctx context.Context) error {
	deadline := time.Now().Add(setupTimeout)
	for {
		n, err := b.d.Service.DB.Outbox.CountPending(ctx)
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the service still has %d rows to send", n)
		}
		time.Sleep(time.Millisecond)
	}
}
