package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/fakehs"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// memoryOptions size the memory benchmark.
type memoryOptions struct {
	Databases     []string `json:"databases"`
	Conversations int      `json:"conversations"`
	// Warmup conversations are opened before the "before" reading, so that what any
	// first conversation costs once (connection pools, caches, code paths paged in)
	// is not spread over the measured ones.
	Warmup int `json:"warmup"`
	// PerTxn is how many conversations one transaction opens (invite + message each).
	PerTxn int `json:"conversations_per_txn"`
	// At are earlier readings in the same process, after this many conversations
	// (fewer than Conversations): 1,000 on the way to 10,000 costs no second run.
	At []int `json:"also_read_at,omitempty"`
}

// stops are the conversation counts read at, ascending, Conversations last.
func (o memoryOptions) stops() []int {
	var out []int
	for _, n := range o.At {
		if n > 0 && n < o.Conversations && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return append(out, o.Conversations)
}

// memoryResult is one database's reading of the service's memory.
type memoryResult struct {
	Database      string `json:"database"`
	What          string `json:"what"`
	Conversations int    `json:"conversations"`
	// RSS and RssAnon (heap, stacks: no file-backed pages) from /proc/<pid>/status,
	// in KiB: right after start-up, before and after the measured conversations.
	StartRSSKiB   int64 `json:"start_rss_kib"`
	BeforeRSSKiB  int64 `json:"before_rss_kib"`
	AfterRSSKiB   int64 `json:"after_rss_kib"`
	BeforeAnonKiB int64 `json:"before_anon_kib"`
	AfterAnonKiB  int64 `json:"after_anon_kib"`
	// LiveHeapMB is the Go heap marked live at the last garbage collection before
	// each reading (GODEBUG=gctrace=1; whole MB): a figure garbage does not inflate.
	BeforeLiveHeapMB int `json:"before_live_heap_mb"`
	AfterLiveHeapMB  int `json:"after_live_heap_mb"`
	// Per conversation, (after - before) / conversations.
	RSSPerConvKiB      float64 `json:"rss_per_conversation_kib"`
	AnonPerConvKiB     float64 `json:"anon_per_conversation_kib"`
	LiveHeapPerConvKiB float64 `json:"live_heap_per_conversation_kib"`
	// Seconds is how long opening the measured conversations took (until the DB
	// had them all and the outbox was drained).
	Seconds         float64        `json:"seconds"`
	ConvsPerS       float64        `json:"conversations_per_s"`
	HomeserverCalls map[string]int `json:"homeserver_calls"`
}

// measureMemory opens conversations in the real binary, as a separate process on
// the fake homeserver, and reads its memory before and after.
func measureMemory(ctx context.Context, opts memoryOptions, pg *pgcluster.Cluster, log zerolog.Logger) ([]*memoryResult, error) {
	dir, err := os.MkdirTemp("", "ccbench-mem-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "contactcenter")
	if err = buildService(ctx, bin); err != nil {
		return nil, err
	}
	var out []*memoryResult
	for _, db := range opts.Databases {
		results, err := memoryOnce(ctx, bin, filepath.Join(dir, db), db, opts, pg, log)
		if err != nil {
			return nil, fmt.Errorf("memory on %s: %w", db, err)
		}
		out = append(out, results...)
	}
	return out, nil
}

// buildService builds the service's command as `make build` does.
func buildService(ctx context.Context, bin string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/contactcenter")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-tags=goolm -buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the service: %v: %s", err, tail(string(out), 2000))
	}
	return nil
}

func memoryOnce(ctx context.Context, bin, dir, db string, opts memoryOptions, pg *pgcluster.Cluster, log zerolog.Logger) ([]*memoryResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	fake, err := fakehs.Start(fakehs.Options{
		ASToken: asToken, Domain: domain, SenderLocalpart: senderLocalpart,
		AppserviceURL: "http://" + listen, HSToken: hsToken, Log: zerolog.Nop(),
	})
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	var pgForDB *pgcluster.Cluster
	if db == "postgres" {
		pgForDB = pg
	}
	// The process runs with the example config's defaults (encryption on).
	cfg, err := benchConfig(ctx, dir, listen, fake.URL, pgForDB, true)
	if err != nil {
		return nil, err
	}
	cfg.Logging.Level = "warn"
	base := "http://" + listen
	svc, err := startService(ctx, bin, cfg, base)
	if err != nil {
		return nil, err
	}
	defer svc.stop()
	dbConn, err := openForReading(cfg.Database.Type, cfg.Database.URI)
	if err != nil {
		return nil, err
	}
	defer dbConn.Close()
	res := &memoryResult{Database: db, Conversations: opts.Conversations,
		What: "the built service as its own process on the fake homeserver (example config: encryption device and /sync loop on); " +
			"each conversation: the customer's invite and one message in one transaction, so the service joins, creates the desk room (as a new ghost) and the side room, " +
			"welcomes, introduces, puts both rooms in the tenant's space and relays the message twice; readings after the DB has every conversation and the outbox is drained, plus 2 s"}
	if res.StartRSSKiB, _, err = readRSS(svc.cmd.Process.Pid); err != nil {
		return nil, err
	}
	client := newDriver(1)
	defer client.CloseIdleConnections()
	// Opening conversations runs at tens a second on two loaded cores.
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Minute+time.Duration(opts.Conversations)*50*time.Millisecond)
	defer cancel()
	if err = waitRows(waitCtx, dbConn, `SELECT COUNT(*) FROM tenant_space`, len(cfg.Tenants)); err != nil {
		return nil, fmt.Errorf("the tenants' spaces: %w", err)
	}
	open := func(from, n int, prefix string) error {
		for i := from; i < from+n; i++ {
			fake.SetMembership(room(i), customer(i), "join")
			fake.SetMembership(room(i), businessUser, "invite")
		}
		if _, err := sendAll(waitCtx, client, base, prefix, conversationTxns(from, n, opts.PerTxn), 1); err != nil {
			return err
		}
		return waitDrained(waitCtx, dbConn, from+n)
	}
	if err = open(0, opts.Warmup, "mem-warmup-"); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err = res.read(ctx, svc, true); err != nil {
		return nil, err
	}
	calls := fake.Counts()
	begin := time.Now()
	var out []*memoryResult
	done := 0
	for _, stop := range opts.stops() {
		if err = open(opts.Warmup+done, stop-done, fmt.Sprintf("mem-%d-", stop)); err != nil {
			return nil, err
		}
		done = stop
		at := *res
		at.Conversations = stop
		at.Seconds = time.Since(begin).Seconds()
		at.ConvsPerS = float64(stop) / at.Seconds
		at.HomeserverCalls = map[string]int{}
		for kind, n := range fake.Counts() {
			if d := n - calls[kind]; d > 0 {
				at.HomeserverCalls[kind] = d
			}
		}
		if err = at.read(ctx, svc, false); err != nil {
			return nil, err
		}
		per := func(before, after int64) float64 { return float64(after-before) / float64(stop) }
		at.RSSPerConvKiB = per(at.BeforeRSSKiB, at.AfterRSSKiB)
		at.AnonPerConvKiB = per(at.BeforeAnonKiB, at.AfterAnonKiB)
		at.LiveHeapPerConvKiB = per(int64(at.BeforeLiveHeapMB)*1024, int64(at.AfterLiveHeapMB)*1024)
		log.Info().Str("database", db).Int("conversations", stop).Float64("rss_per_conversation_kib", at.RSSPerConvKiB).
			Float64("live_heap_per_conversation_kib", at.LiveHeapPerConvKiB).Msg("Memory measured")
		out = append(out, &at)
	}
	if unknown := fake.Unrecognized(); len(unknown) > 0 {
		log.Warn().Interface("requests", unknown).Msg("The fake homeserver got requests it does not implement; figures may be off")
	}
	return out, nil
}

// read takes the before or after reading, once the process had a moment to settle.
func (res *memoryResult) read(ctx context.Context, svc *process, before bool) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Second):
	}
	rss, anon, err := readRSS(svc.cmd.Process.Pid)
	if err != nil {
		return err
	}
	if before {
		res.BeforeRSSKiB, res.BeforeAnonKiB, res.BeforeLiveHeapMB = rss, anon, svc.liveHeapMB()
	} else {
		res.AfterRSSKiB, res.AfterAnonKiB, res.AfterLiveHeapMB = rss, anon, svc.liveHeapMB()
	}
	return nil
}

// conversationTxns opens conversations from..from+n: each customer's invite and
// first message, perTxn conversations to a transaction.
func conversationTxns(from, n, perTxn int) [][]byte {
	ts := time.Now().UnixMilli()
	var out [][]byte
	for start := from; start < from+n; start += perTxn {
		var evts []any
		for i := start; i < min(start+perTxn, from+n); i++ {
			evts = append(evts, map[string]any{
				"type": "m.room.member", "state_key": businessUser, "sender": customer(i), "room_id": room(i),
				"event_id": fmt.Sprintf("$invite%d", i), "origin_server_ts": ts,
				"content": map[string]any{"membership": "invite", "is_direct": true},
			}, map[string]any{
				"type": "m.room.message", "sender": customer(i), "room_id": room(i),
				"event_id": fmt.Sprintf("$first%d", i), "origin_server_ts": ts,
				"content": map[string]any{"msgtype": "m.text", "body": "Hello, I have a question about my order."},
			})
		}
		out = append(out, txnBody(evts...))
	}
	return out
}

// openForReading connects the benchmark to the service's database, to watch it.
func openForReading(dbType, uri string) (*sql.DB, error) {
	if dbType == "sqlite" {
		return sql.Open("sqlite", "file:"+uri+"?_pragma=busy_timeout(10000)")
	}
	return sql.Open("postgres", uri)
}

func waitRows(ctx context.Context, db *sql.DB, query string, n int) error {
	return pollUntil(ctx, 20*time.Millisecond, func() (bool, error) {
		var got int
		err := db.QueryRowContext(ctx, query).Scan(&got)
		return got >= n, err
	})
}

// waitDrained waits until n conversations exist and neither queue has pending rows.
func waitDrained(ctx context.Context, db *sql.DB, n int) error {
	if err := waitRows(ctx, db, `SELECT COUNT(*) FROM conversation`, n); err != nil {
		return err
	}
	return pollUntil(ctx, 20*time.Millisecond, func() (bool, error) {
		var pending int
		err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL) + (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL)`).Scan(&pending)
		return pending == 0, err
	})
}

// readRSS reads VmRSS and RssAnon (KiB) of a process.
func readRSS(pid int) (rss, anon int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			rss, err = strconv.ParseInt(fields[1], 10, 64)
		case "RssAnon:":
			anon, err = strconv.ParseInt(fields[1], 10, 64)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS for pid %d", pid)
	}
	return rss, anon, nil
}

// process is the service running as its own process, its stderr watched for the
// runtime's GC trace.
type process struct {
	cmd    *exec.Cmd
	exited chan error
	mu     sync.Mutex
	live   int
	stderr bytes.Buffer // the tail, for errors
}

// gcLine matches the heap sizes of a gctrace line: "4->5->2 MB" is heap at start,
// at end, and marked live.
var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// startService writes cfg to its path, starts the built service on it and returns once
// it answers as ready at base.
func startService(ctx context.Context, bin string, cfg *config.Config, base string) (*process, error) {
	data, err := yaml.Marshal(cfg)
	if err == nil {
		err = os.WriteFile(cfg.Path, data, 0o600)
	}
	if err != nil {
		return nil, err
	}
	svc, err := startProcess(ctx, bin, cfg.Path)
	if err != nil {
		return nil, err
	}
	if err = svc.waitReady(ctx, base); err != nil {
		svc.stop()
		return nil, err
	}
	return svc, nil
}

func startProcess(ctx context.Context, bin, configPath string) (*process, error) {
	p := &process{exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "-c", configPath)
	p.cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err = p.cmd.Start(); err != nil {
		return nil, err
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if m := gcLine.FindStringSubmatch(line); m != nil && strings.HasPrefix(line, "gc ") {
				p.live, _ = strconv.Atoi(m[3])
			} else {
				p.stderr.WriteString(line + "\n")
				if p.stderr.Len() > 64<<10 {
					p.stderr.Next(p.stderr.Len() - 32<<10)
				}
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-scanned // Wait must not close the pipe before it is read to the end
		p.exited <- p.cmd.Wait()
	}()
	return p, nil
}

func (p *process) liveHeapMB() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return tail(p.stderr.String(), 2000)
}

// waitReady polls the service's readiness endpoint.
func (p *process) waitReady(ctx context.Context, base string) error {
	deadline := time.After(time.Minute)
	for {
		resp, err := http.Get(base + "/_matrix/mau/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("the service exited (%v): %s", err, p.output())
		case <-deadline:
			return fmt.Errorf("the service was not ready after a minute: %s", p.output())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop ends the process as an operator would (SIGTERM), killing it if it hangs.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
