package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/internal/fakehs"
)

// The native part: what relaying typing notifications and read receipts costs. The
// built service runs as its own process on the fake homeserver, once with the relay
// off and once on (the example config's default), each on SQLite:
//   - memory, goroutines and sockets with N open conversations, all assigned (so the
//     desk poller reads every desk room);
//   - desk-room reads per second (the poller's /sync requests);
//   - extra homeserver requests per relayed message: for each of up to 200
//     conversations the customer types, writes, stops typing and an agent reads the
//     relayed copy (typing and receipts pushed in transactions, as Synapse does);
//   - the service's CPU (utime+stime) per 1,000 typing events pushed in
//     transactions, each one a change that is relayed.

// nativeOptions size the native part.
type nativeOptions struct {
	Conversations int `json:"conversations"`
	TypingEvents  int `json:"typing_events"`
}

// nativeResult is one variant's readings.
type nativeResult struct {
	Relay         string `json:"relay"`
	Conversations int    `json:"conversations"`
	// Memory after start-up and with the conversations open and assigned, and what
	// that is per conversation.
	StartRSSKiB        int64   `json:"start_rss_kib"`
	OpenRSSKiB         int64   `json:"open_rss_kib"`
	OpenLiveHeapMB     int     `json:"open_live_heap_mb"`
	RSSPerConvKiB      float64 `json:"rss_per_conversation_kib"`
	StartGoroutines    int     `json:"start_goroutines"`
	OpenGoroutines     int     `json:"open_goroutines"`
	StartSockets       int     `json:"start_sockets"`
	OpenSockets        int     `json:"open_sockets"`
	DeskReadsPerSecond float64 `json:"desk_reads_per_second"`
	// Per relayed message (the customer's, with typing before and a receipt after).
	Messages          int     `json:"messages"`
	SendsPerMessage   float64 `json:"sends_per_message"`
	TypingPerMessage  float64 `json:"typing_requests_per_message"`
	ReceiptPerMessage float64 `json:"receipt_requests_per_message"`
	// Typing events pushed, the relay requests they caused and the service's CPU.
	TypingEvents    int     `json:"typing_events"`
	TypingRequests  int     `json:"typing_requests"`
	CPUMsPer1000    float64 `json:"cpu_ms_per_1000_typing_events"`
	TypingSeconds   float64 `json:"typing_seconds"`
	UnknownRequests int     `json:"unknown_requests"`
}

func measureNative(ctx context.Context, opts nativeOptions, log zerolog.Logger) ([]*nativeResult, error) {
	dir, err := os.MkdirTemp("", "ccbench-native-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "contactcenter")
	if err = buildService(ctx, bin); err != nil {
		return nil, err
	}
	var out []*nativeResult
	for _, on := range []bool{false, true} {
		res, err := nativeOnce(ctx, bin, filepath.Join(dir, strconv.FormatBool(on)), on, opts, log)
		if err != nil {
			return nil, fmt.Errorf("native (relay %v): %w", on, err)
		}
		out = append(out, res)
	}
	return out, nil
}

func nativeOnce(ctx context.Context, bin, dir string, on bool, opts nativeOptions, log zerolog.Logger) (*nativeResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	metricsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	fake, err := fakehs.Start(fakehs.Options{ASToken: asToken, Domain: domain, SenderLocalpart: senderLocalpart,
		AppserviceURL: "http://" + listen, HSToken: hsToken, Log: zerolog.Nop()})
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	cfg, err := benchConfig(ctx, dir, listen, fake.URL, nil, true)
	if err != nil {
		return nil, err
	}
	cfg.Logging.Level = "warn"
	cfg.Metrics.Listen = fmt.Sprintf("127.0.0.1:%d", metricsPort)
	cfg.Native.Typing, cfg.Native.Receipts = on, on
	base, metrics := "http://"+listen, "http://"+cfg.Metrics.Listen+"/metrics"
	svc, err := startService(ctx, bin, cfg, base)
	if err != nil {
		return nil, err
	}
	defer svc.stop()
	db, err := openForReading(cfg.Database.Type, cfg.Database.URI)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Minute+time.Duration(opts.Conversations)*50*time.Millisecond)
	defer cancel()
	if err = waitRows(waitCtx, db, `SELECT COUNT(*) FROM tenant_space`, len(cfg.Tenants)); err != nil {
		return nil, err
	}
	pid := svc.cmd.Process.Pid
	relay := map[bool]string{false: "off", true: "on"}[on]
	res := &nativeResult{Relay: relay, Conversations: opts.Conversations, TypingEvents: opts.TypingEvents}
	time.Sleep(2 * time.Second)
	if res.StartRSSKiB, _, err = readRSS(pid); err != nil {
		return nil, err
	}
	res.StartGoroutines, res.StartSockets = goroutines(metrics), sockets(pid)

	// Open the conversations and have an agent take each one.
	n := opts.Conversations
	for i := range n {
		fake.SetMembership(room(i), customer(i), "join")
		fake.SetMembership(room(i), businessUser, "invite")
	}
	client := newDriver(1)
	defer client.CloseIdleConnections()
	if _, err = sendAll(waitCtx, client, base, "nat-open-", conversationTxns(0, n, 10), 1); err != nil {
		return nil, err
	}
	if err = waitDrained(waitCtx, db, n); err != nil {
		return nil, err
	}
	if _, err = db.ExecContext(ctx, `UPDATE conversation SET status = 'assigned', agent_user_id = $1, assigned_at = $2 WHERE status <> 'closed'`,
		"@agent:"+domain, time.Now().UnixMilli()); err != nil {
		return nil, err
	}
	// A round or two for the index and every desk room's first read, then the reads.
	time.Sleep(3 * time.Second)
	before := fake.Counts()["sync"]
	const window = 5 * time.Second
	time.Sleep(window)
	res.DeskReadsPerSecond = float64(fake.Counts()["sync"]-before) / window.Seconds()
	if res.OpenRSSKiB, _, err = readRSS(pid); err != nil {
		return nil, err
	}
	res.OpenLiveHeapMB = svc.liveHeapMB()
	res.OpenGoroutines, res.OpenSockets = goroutines(metrics), sockets(pid)
	res.RSSPerConvKiB = float64(res.OpenRSSKiB-res.StartRSSKiB) / float64(n)
	log.Info().Str("relay", relay).Int("conversations", n).Float64("rss_per_conversation_kib", res.RSSPerConvKiB).
		Int("goroutines", res.OpenGoroutines).Int("sockets", res.OpenSockets).Float64("desk_reads_per_s", res.DeskReadsPerSecond).Msg("Native: conversations open")

	// Messages with typing before and a receipt after (pushed: from here on the desk
	// rooms are no longer read).
	if err = nativeMessages(waitCtx, client, base, db, fake, res, min(n, 200)); err != nil {
		return nil, err
	}
	// Typing events, every one a change.
	txns := typingTxns(n, opts.TypingEvents, 50)
	countBefore, cpuBefore := fake.Counts()["typing"], cpuMs(pid)
	begin := time.Now()
	if _, err = sendAll(waitCtx, client, base, "nat-typing-", txns, 1); err != nil {
		return nil, err
	}
	want := 0
	if on {
		want = opts.TypingEvents
	}
	settle(waitCtx, func() int { return fake.Counts()["typing"] - countBefore }, want)
	res.TypingSeconds = time.Since(begin).Seconds()
	res.TypingRequests = fake.Counts()["typing"] - countBefore
	res.CPUMsPer1000 = (cpuMs(pid) - cpuBefore) / float64(opts.TypingEvents) * 1000
	for _, c := range fake.Unrecognized() {
		res.UnknownRequests += c
	}
	log.Info().Str("relay", relay).Float64("cpu_ms_per_1000", res.CPUMsPer1000).Int("typing_requests", res.TypingRequests).Msg("Native: typing measured")
	return res, nil
}

// nativeMessages has the customers of k conversations type, write and stop, and an
// agent read the relayed copy, and counts the homeserver requests that caused.
func nativeMessages(ctx context.Context, client *http.Client, base string, db *sql.DB, fake *fakehs.Server, res *nativeResult, k int) error {
	counts := fake.Counts()
	typing := func(i int, on bool) map[string]any {
		users := []string{}
		if on {
			users = append(users, customer(i))
		}
		return map[string]any{"type": "m.typing", "room_id": room(i), "content": map[string]any{"user_ids": users}}
	}
	var txns [][]byte
	for i := range k {
		txns = append(txns, ephemeralTxn(typing(i, true)), txnBody(map[string]any{
			"type": "m.room.message", "sender": customer(i), "room_id": room(i), "event_id": fmt.Sprintf("$natmsg%d", i),
			"origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{"msgtype": "m.text", "body": "Where is my parcel?"},
		}), ephemeralTxn(typing(i, false)))
	}
	if _, err := sendAll(ctx, client, base, "nat-msg-", txns, 1); err != nil {
		return err
	}
	// The desk copies, once sent, are what the agent reads.
	var copies map[string]string
	err := pollUntil(ctx, 50*time.Millisecond, func() (bool, error) {
		rows, err := db.QueryContext(ctx, `SELECT c.desk_room_id, e.copy_event FROM event_map e JOIN conversation c ON c.desk_room_id = e.copy_room
			WHERE e.origin_event LIKE '$natmsg%' AND e.copy_event IS NOT NULL AND e.copy_event <> ''`)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		copies = map[string]string{}
		for rows.Next() {
			var desk, evt string
			if err = rows.Scan(&desk, &evt); err != nil {
				return false, err
			}
			copies[desk] = evt
		}
		return len(copies) >= k, rows.Err()
	})
	if err != nil {
		return err
	}
	var receipts [][]byte
	for desk, evt := range copies {
		receipts = append(receipts, ephemeralTxn(map[string]any{"type": "m.receipt", "room_id": desk,
			"content": map[string]any{evt: map[string]any{"m.read": map[string]any{"@agent:" + domain: map[string]any{"ts": time.Now().UnixMilli()}}}}}))
	}
	if _, err = sendAll(ctx, client, base, "nat-read-", receipts, 1); err != nil {
		return err
	}
	want := 0
	if res.Relay == "on" {
		want = k
	}
	settle(ctx, func() int { return fake.Counts()["receipt"] - counts["receipt"] }, want)
	if err = waitDrained(ctx, db, 0); err != nil {
		return err
	}
	now := fake.Counts()
	per := func(kind string) float64 { return float64(now[kind]-counts[kind]) / float64(k) }
	res.Messages, res.SendsPerMessage, res.TypingPerMessage, res.ReceiptPerMessage = k, per("send"), per("typing"), per("receipt")
	return nil
}

// typingTxns are n typing events over the rooms, perTxn to a transaction, each one a
// change: on in every room, then off in every room, and so on.
func typingTxns(rooms, n, perTxn int) [][]byte {
	var out [][]byte
	var evts []any
	for j := range n {
		i := j % rooms
		users := []string{}
		if (j/rooms)%2 == 0 {
			users = append(users, customer(i))
		}
		evts = append(evts, map[string]any{"type": "m.typing", "room_id": room(i), "content": map[string]any{"user_ids": users}})
		if len(evts) == perTxn || j == n-1 {
			out = append(out, ephemeralTxn(evts...))
			evts = nil
		}
	}
	return out
}

// ephemeralTxn is a transaction carrying only pushed ephemeral events (MSC2409).
func ephemeralTxn(evts ...any) []byte {
	data, err := json.Marshal(map[string]any{"events": []any{}, "de.sorunome.msc2409.ephemeral": evts})
	if err != nil {
		panic(err)
	}
	return data
}

// settle waits until count reaches want, or stops moving for a second (at most a
// minute).
func settle(ctx context.Context, count func() int, want int) {
	deadline := time.Now().Add(time.Minute)
	last, still := -1, time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		c := count()
		if want > 0 && c >= want {
			return
		}
		if c != last {
			last, still = c, time.Now()
		} else if time.Since(still) > time.Second {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cpuMs is a process's user and system CPU time so far, in milliseconds.
func cpuMs(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after its ")" are fixed.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) * 1000 / 100 // USER_HZ is 100 on Linux
}

// sockets counts a process's open sockets (TCP connections and listeners).
func sockets(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// goroutines reads go_goroutines from the service's metrics.
func goroutines(metricsURL string) int {
	resp, err := http.Get(metricsURL)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return -1
}

func printNative(out io.Writer, sz *nativeOptions, all []*nativeResult) {
	if len(all) == 0 {
		return
	}
	fmt.Fprintf(out, "\n== Typing and receipts: %d open conversations, all assigned; %d typing events (the service as its own process, fake homeserver, SQLite)\n", sz.Conversations, sz.TypingEvents)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "relay\tRSS/conv KiB\tlive heap MB\tgoroutines\tsockets\tdesk reads/s\tsends/msg\ttyping req/msg\treceipt req/msg\tCPU ms/1000 typing\ttyping req\t")
	for _, r := range all {
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%d→%d\t%d→%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.0f\t%d\t\n", r.Relay, r.RSSPerConvKiB, r.OpenLiveHeapMB,
			r.StartGoroutines, r.OpenGoroutines, r.StartSockets, r.OpenSockets, r.DeskReadsPerSecond,
			r.SendsPerMessage, r.TypingPerMessage, r.ReceiptPerMessage, r.CPUMsPer1000, r.TypingRequests)
	}
	tw.Flush()
}
