// Command bench measures what the issues ask about, in parts (-only selects some):
//
//   - sandbox: how long `make sandbox` takes to be ready;
//   - throughput: the service's own cost per event against a bare mautrix
//     appservice, on a fast in-process fake homeserver;
//   - relay: on the real test bed (two Dendrites), how much later an agent sees a
//     customer's message relayed by the service than sent over plain federation, and
//     how many messages per second get through each way;
//   - memory: the service's memory per open conversation, as its own process on the
//     fake homeserver;
//   - routing: one routing pass over a tenant of N staff, database reads included,
//     re-reading the whole tenant first (the tick) and trusting the router (a change);
//   - flood: a quiet customer's welcome and relay latency while another floods,
//     against the same without a flood, under the example config's limits;
//   - outbound: contactability decisions per second, pure and through the admin API
//     with each stored, and a burst of requests at once (outbound.go);
//   - native: what relaying typing and read receipts costs (native.go).
//
// It prints a table and writes the same figures as JSON. The machine is assumed
// noisy: compared variants are interleaved and compared round by round, and the
// figures to quote are the ratios.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

type options struct {
	w            workload
	variantsS    string
	rounds       int
	sandboxRuns  int
	commandRuns  int
	concurrency  []int
	only         map[string]bool
	onlyS        string
	relay        relayOptions
	relayDBs     string
	memory       memoryOptions
	memoryDBs    string
	flood        floodOptions
	floodDBs     string
	routing      routingOptions
	routingStaff string
	routingDBs   string
	native       nativeOptions
	postgres     bool
	pgNaptime    string
	encryption   bool
	jsonPath     string
	serviceLogs  bool
	cpuProfile   string
	concurrencyS string
}

func parseFlags() (*options, error) {
	o := &options{}
	flag.IntVar(&o.w.Rooms, "rooms", 50, "customer rooms (conversations) the events are spread over")
	flag.IntVar(&o.w.Txns, "txns", 200, "measured transactions per run")
	flag.IntVar(&o.w.Events, "events", 10, "events per transaction")
	flag.StringVar(&o.variantsS, "variants", "", "throughput: only these variants, comma separated (default all; for profiling one)")
	flag.IntVar(&o.rounds, "runs", 5, "throughput rounds (each variant once per round, interleaved)")
	flag.IntVar(&o.sandboxRuns, "sandbox-runs", 5, "sandbox start-ups (deploy.Start)")
	flag.IntVar(&o.commandRuns, "sandbox-command-runs", 3, "timed runs of `go run ./cmd/sandbox` until ready (0: none)")
	flag.StringVar(&o.concurrencyS, "concurrency", "1", "concurrent transaction senders, comma separated (homeservers use 1; 1,4 shows how ingestion scales)")
	flag.StringVar(&o.onlyS, "only", "", "run only these `parts`, comma separated: sandbox, throughput, relay, memory, routing, voice, flood, outbound, native (default all)")
	flag.IntVar(&o.relay.Messages, "relay-messages", 200, "relay latency: messages per path (one at a time)")
	flag.IntVar(&o.relay.Burst, "relay-burst", 300, "relay throughput: messages per burst")
	flag.IntVar(&o.relay.Rounds, "relay-rounds", 2, "relay throughput: bursts per path (interleaved)")
	// PostgreSQL only by default: a test bed takes about four minutes on two cores, and
	// the first runs showed the same ratios on SQLite.
	flag.StringVar(&o.relayDBs, "relay-db", "postgres", "relay: databases, comma separated (a test bed each)")
	flag.IntVar(&o.memory.Conversations, "memory-conversations", 1000, "memory: conversations measured (10000: the issue's second size)")
	flag.Func("memory-at", "memory: also read after this many conversations, comma separated, in the same process (1000 with -memory-conversations=10000)", func(v string) error {
		for _, part := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || n < 1 {
				return fmt.Errorf("%q is not a positive number", part)
			}
			o.memory.At = append(o.memory.At, n)
		}
		return nil
	})
	flag.IntVar(&o.memory.Warmup, "memory-warmup", 50, "memory: conversations opened before the first reading")
	flag.IntVar(&o.memory.PerTxn, "memory-per-txn", 10, "memory: conversations per transaction")
	flag.StringVar(&o.memoryDBs, "memory-db", "sqlite,postgres", "memory: databases, comma separated")
	flag.IntVar(&o.native.Conversations, "native-conversations", 500, "native: open conversations, all assigned")
	flag.IntVar(&o.native.TypingEvents, "native-typing", 2000, "native: typing events pushed for the CPU figure")
	flag.IntVar(&o.flood.Messages, "flood-messages", 1000, "flood: messages one flooding customer sends per round")
	flag.IntVar(&o.flood.Rounds, "flood-rounds", 3, "flood: rounds (a flood, then as many samples without)")
	flag.StringVar(&o.floodDBs, "flood-db", "sqlite", "flood: databases, comma separated")
	flag.StringVar(&o.routingStaff, "routing-staff", "100,10000", "routing: staff per tenant, comma separated")
	flag.IntVar(&o.routing.Waiting, "routing-waiting", 20, "routing: waiting conversations a pass looks at")
	flag.IntVar(&o.routing.Runs, "routing-runs", 30, "routing: timed passes of each kind (interleaved)")
	flag.StringVar(&o.routingDBs, "routing-db", "sqlite,postgres", "routing: databases, comma separated")
	flag.BoolVar(&o.postgres, "postgres", true, "also measure the service on PostgreSQL (needs PostgreSQL's server binaries)")
	flag.StringVar(&o.pgNaptime, "pg-autovacuum-naptime", "1s", "PostgreSQL's autovacuum_naptime in the benchmark's cluster (empty: PostgreSQL's default, 1min)")
	flag.BoolVar(&o.encryption, "encryption", true, "give the service's business identity an encryption device, as the default config does\n(false crashes this version: the /sync loop of a client without a sync store)")
	flag.StringVar(&o.jsonPath, "json", "bench-out/results.json", "where to write the results as JSON (empty: nowhere)")
	flag.IntVar(&idleConns, "db-idle-conns", 0, "override the service's database.max_idle_conns (0: the example config's value)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole benchmark process to `file` (go tool pprof)")
	flag.BoolVar(&o.serviceLogs, "v", false, "show the service's and the fake homeserver's debug logs")
	flag.Parse()
	for _, part := range strings.Split(o.concurrencyS, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || c < 1 {
			return nil, fmt.Errorf("-concurrency: %q is not a positive number", part)
		}
		o.concurrency = append(o.concurrency, c)
	}
	if o.w.Rooms < 1 || o.w.Txns < 1 || o.w.Events < 1 || o.rounds < 1 || o.sandboxRuns < 1 || o.commandRuns < 0 ||
		o.relay.Messages < 1 || o.relay.Burst < 1 || o.relay.Rounds < 1 ||
		o.memory.Conversations < 1 || o.memory.Warmup < 0 || o.memory.PerTxn < 1 ||
		o.routing.Waiting < 0 || o.routing.Runs < 1 {
		return nil, fmt.Errorf("sizes must be positive")
	}
	o.only = map[string]bool{}
	for _, part := range strings.Split(o.onlyS, ",") {
		switch part = strings.TrimSpace(part); part {
		case "sandbox", "throughput", "relay", "memory", "routing", "voice", "flood", "outbound", "native":
			o.only[part] = true
		case "":
		default:
			return nil, fmt.Errorf("-only: unknown part %q (sandbox, throughput, relay, memory, routing, voice, flood, outbound, native)", part)
		}
	}
	var err error
	if o.relay.Databases, err = databases("-relay-db", o.relayDBs); err != nil {
		return nil, err
	}
	if o.memory.Databases, err = databases("-memory-db", o.memoryDBs); err != nil {
		return nil, err
	}
	if o.routing.Databases, err = databases("-routing-db", o.routingDBs); err != nil {
		return nil, err
	}
	if o.flood.Databases, err = databases("-flood-db", o.floodDBs); err != nil {
		return nil, err
	}
	o.flood.PerTxn, o.flood.MinSamples = 10, 10
	if o.flood.Messages < 1 || o.flood.Rounds < 1 {
		return nil, fmt.Errorf("sizes must be positive")
	}
	for _, part := range strings.Split(o.routingStaff, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-routing-staff: %q is not a positive number", part)
		}
		o.routing.Staff = append(o.routing.Staff, n)
	}
	return o, nil
}

func databases(flagName, list string) ([]string, error) {
	var out []string
	for _, db := range strings.Split(list, ",") {
		switch db = strings.TrimSpace(db); db {
		case "sqlite", "postgres":
			out = append(out, db)
		default:
			return nil, fmt.Errorf("%s: %q is not sqlite or postgres", flagName, db)
		}
	}
	return out, nil
}

// runs tells whether a part is selected.
func (o *options) runs(part string) bool { return len(o.only) == 0 || o.only[part] }

// needsPostgres tells whether a selected part uses PostgreSQL.
func (o *options) needsPostgres() bool {
	return (o.runs("throughput") && o.postgres) ||
		(o.runs("relay") && slices.Contains(o.relay.Databases, "postgres")) ||
		(o.runs("memory") && slices.Contains(o.memory.Databases, "postgres")) ||
		(o.runs("routing") && slices.Contains(o.routing.Databases, "postgres")) ||
		(o.runs("flood") && slices.Contains(o.flood.Databases, "postgres")) ||
		o.runs("outbound")
}

// results is everything the JSON file holds.
type results struct {
	Command      string            `json:"command"`
	Machine      machine           `json:"machine"`
	Started      time.Time         `json:"started"`
	Seconds      float64           `json:"seconds"`
	Sandbox      *sandboxResult    `json:"sandbox,omitempty"`
	Workload     *workload         `json:"workload,omitempty"`
	Throughput   []*series         `json:"throughput,omitempty"`
	Ratios       []ratio           `json:"ratios,omitempty"`
	RelaySizes   *relayOptions     `json:"relay_sizes,omitempty"`
	Relay        []*relayResult    `json:"relay,omitempty"`
	MemorySize   *memoryOptions    `json:"memory_sizes,omitempty"`
	Memory       []*memoryResult   `json:"memory,omitempty"`
	RoutingSizes *routingOptions   `json:"routing_sizes,omitempty"`
	Routing      []*routingResult  `json:"routing,omitempty"`
	VoiceSizes   *voiceOptions     `json:"voice_sizes,omitempty"`
	Voice        []*voiceResult    `json:"voice,omitempty"`
	VoiceSetup   *callSetup        `json:"voice_setup,omitempty"`
	FloodSizes   *floodOptions     `json:"flood_sizes,omitempty"`
	Flood        []*floodResult    `json:"flood,omitempty"`
	Outbound     *outboundResult   `json:"outbound,omitempty"`
	NativeSizes  *nativeOptions    `json:"native_sizes,omitempty"`
	Native       []*nativeResult   `json:"native,omitempty"`
	Skipped      map[string]string `json:"skipped,omitempty"`
}

func main() { os.Exit(realMain()) }

// realMain returns the exit code, so that deferred work (the CPU profile, stopping
// PostgreSQL) runs before the process exits.
func realMain() int {
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"}).With().Timestamp().Logger().Level(zerolog.InfoLevel)
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			log.Error().Err(err).Msg("Could not start the CPU profile")
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, opts, log)
	if err != nil {
		log.Error().Err(err).Msg("Benchmark failed")
		return 1
	}
	printTable(os.Stdout, res)
	printRouting(os.Stdout, res.RoutingSizes, res.Routing)
	printVoice(os.Stdout, res.VoiceSizes, res.Voice)
	printCallSetup(os.Stdout, res.VoiceSetup)
	printFlood(os.Stdout, res.FloodSizes, res.Flood)
	printOutbound(os.Stdout, res.Outbound)
	printNative(os.Stdout, res.NativeSizes, res.Native)
	if opts.jsonPath != "" {
		if err = writeJSON(opts.jsonPath, res); err != nil {
			log.Error().Err(err).Msg("Could not write the JSON results")
			return 1
		}
		fmt.Printf("\nJSON: %s\n", opts.jsonPath)
	}
	return 0
}

func run(ctx context.Context, opts *options, log zerolog.Logger) (*results, error) {
	res := &results{Command: command(), Machine: describeMachine(), Started: time.Now(), Skipped: map[string]string{}}
	// The service's and the fake homeserver's own logs are off unless asked for: they
	// would cost the same in every variant but drown the progress lines.
	inner := zerolog.Nop()
	if opts.serviceLogs {
		inner = log.Level(zerolog.DebugLevel)
	}
	if opts.runs("sandbox") {
		sb, err := measureSandbox(ctx, opts.sandboxRuns, opts.commandRuns, log)
		if err != nil {
			return nil, err
		}
		res.Sandbox = sb
	}
	// One PostgreSQL cluster serves every part; each run gets a database of its own.
	var pg *pgcluster.Cluster
	if opts.needsPostgres() {
		var err error
		// A run packs minutes of a deployment's traffic into seconds; autovacuum keeps up
		// only on the same time scale. Without it the planner never learns that the tables
		// have grown during a run, and the connections' prepared statements keep the plans
		// they made while the tables were empty (whole-table scans).
		var settings []string
		if opts.pgNaptime != "" {
			settings = append(settings, "autovacuum_naptime="+opts.pgNaptime)
		}
		if pg, err = pgcluster.Start(ctx, "", settings...); err != nil {
			log.Warn().Err(err).Msg("No PostgreSQL; measuring SQLite only")
			res.Skipped["postgres"] = err.Error()
			pg = nil
			opts.relay.Databases = slices.DeleteFunc(opts.relay.Databases, func(db string) bool { return db == "postgres" })
			opts.memory.Databases = slices.DeleteFunc(opts.memory.Databases, func(db string) bool { return db == "postgres" })
			opts.routing.Databases = slices.DeleteFunc(opts.routing.Databases, func(db string) bool { return db == "postgres" })
			opts.flood.Databases = slices.DeleteFunc(opts.flood.Databases, func(db string) bool { return db == "postgres" })
		} else {
			defer pg.Stop()
		}
	}
	if opts.runs("throughput") {
		throughputPG := pg
		if !opts.postgres {
			throughputPG = nil
		}
		vs := variants(throughputPG, opts.encryption, inner)
		if opts.variantsS != "" {
			vs = slices.DeleteFunc(vs, func(v variant) bool { return !slices.Contains(strings.Split(opts.variantsS, ","), v.Name) })
		}
		series, err := measureThroughput(ctx, vs, opts.w, opts.concurrency, opts.rounds, log)
		if err != nil {
			return nil, err
		}
		res.Workload, res.Throughput, res.Ratios = &opts.w, series, ratios(series)
	}
	if opts.runs("relay") && len(opts.relay.Databases) > 0 {
		relay, err := measureRelay(ctx, opts.relay, pg, inner, log)
		if err != nil {
			return nil, err
		}
		res.RelaySizes, res.Relay = &opts.relay, relay
	}
	if opts.runs("memory") && len(opts.memory.Databases) > 0 {
		memory, err := measureMemory(ctx, opts.memory, pg, log)
		if err != nil {
			return nil, err
		}
		res.MemorySize, res.Memory = &opts.memory, memory
	}
	if opts.runs("routing") && len(opts.routing.Databases) > 0 {
		routed, err := measureRouting(ctx, opts.routing, pg, log)
		if err != nil {
			return nil, err
		}
		res.RoutingSizes, res.Routing = &opts.routing, routed
	}
	if opts.runs("flood") && len(opts.flood.Databases) > 0 {
		flood, err := measureFlood(ctx, opts.flood, pg, inner, log)
		if err != nil {
			return nil, err
		}
		res.FloodSizes, res.Flood = &opts.flood, flood
	}
	if opts.runs("voice") {
		var err error
		if res.VoiceSizes, res.Voice, err = measureVoice(ctx, log); err != nil {
			return nil, err
		}
		if res.VoiceSetup, err = measureCallSetup(ctx, log); err != nil {
			return nil, err
		}
	}
	if opts.runs("outbound") {
		var err error
		if res.Outbound, err = measureOutbound(ctx, pg, inner, log); err != nil {
			return nil, err
		}
	}
	if opts.runs("native") {
		native, err := measureNative(ctx, opts.native, log)
		if err != nil {
			return nil, err
		}
		res.NativeSizes, res.Native = &opts.native, native
	}
	res.Seconds = time.Since(res.Started).Seconds()
	return res, nil
}

// command is the exact command line that reproduces the run, every flag spelled out.
func command() string {
	args := []string{"CGO_ENABLED=0", "GOFLAGS=-tags=goolm", "go", "run", "./cmd/bench"}
	flag.VisitAll(func(f *flag.Flag) {
		if f.Name == "json" || f.Name == "v" || f.Name == "cpuprofile" {
			return
		}
		args = append(args, "-"+f.Name+"="+f.Value.String())
	})
	return strings.Join(args, " ")
}

func writeJSON(path string, res *results) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
