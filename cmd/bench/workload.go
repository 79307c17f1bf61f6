package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/contactcenter/contactcenter/internal/fakehs"
)

// The identities of the throughput benchmark. Customers are on another server, as
// they are in production: the service only ever sees them through transactions.
const (
	domain          = "bench.local"
	businessUser    = "@acme:" + domain
	asToken         = "bench-as-token-2Lk9Qw4Xc7Vb1Nm6Zp3Rt8Hy5Jd0Gf"
	hsToken         = "bench-hs-token-6Pm1Zx8Qc3Vb9Nk4Lw7Rt2Hy5Jd0Gs"
	senderLocalpart = "benchsender"
)

func customer(i int) string { return fmt.Sprintf("@cust%d:remote.example", i) }
func room(i int) string     { return fmt.Sprintf("!room%d:remote.example", i) }

// workload is the size of one throughput run.
type workload struct {
	Rooms  int `json:"rooms"`
	Txns   int `json:"txns"`
	Events int `json:"events_per_txn"`
}

func (w workload) total() int { return w.Txns * w.Events }

// inviteTxns has one transaction per room: the customer inviting the business user to
// their DM, which is how a conversation starts.
func inviteTxns(w workload) [][]byte {
	ts := time.Now().UnixMilli()
	out := make([][]byte, w.Rooms)
	for i := range out {
		out[i] = txnBody(map[string]any{
			"type": "m.room.member", "state_key": businessUser, "sender": customer(i), "room_id": room(i),
			"event_id": fmt.Sprintf("$invite%d", i), "origin_server_ts": ts,
			"content": map[string]any{"membership": "invite", "is_direct": true},
		})
	}
	return out
}

// messageTxns are the measured transactions: consecutive events go to consecutive
// rooms, so every transaction touches several rooms as a busy homeserver's would.
func messageTxns(w workload) [][]byte {
	ts := time.Now().UnixMilli()
	out := make([][]byte, w.Txns)
	for t := range out {
		evts := make([]any, w.Events)
		for k := range evts {
			n := t*w.Events + k
			r := n % w.Rooms
			evts[k] = map[string]any{
				"type": "m.room.message", "sender": customer(r), "room_id": room(r),
				"event_id": fmt.Sprintf("$msg%d", n), "origin_server_ts": ts, "unsigned": map[string]any{"age": 1},
				"content": map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("Hello, this is message %d about my order.", n)},
			}
		}
		out[t] = txnBody(evts...)
	}
	return out
}

func txnBody(evts ...any) []byte {
	data, err := json.Marshal(map[string]any{"events": evts})
	if err != nil {
		panic(err)
	}
	return data
}

// newDriver is the "homeserver" side's HTTP client, keeping one connection per sender.
func newDriver(concurrency int) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConnsPerHost: concurrency + 1, DisableCompression: true,
	}}
}

// sendAll PUTs the transactions to an appservice as a homeserver does, `concurrency`
// in flight at once (homeservers send one at a time per appservice; more shows how
// ingestion scales), and returns each one's latency. Any answer but 200 is an error:
// the benchmark does not retry.
func sendAll(ctx context.Context, client *http.Client, baseURL, prefix string, bodies [][]byte, concurrency int) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg        sync.WaitGroup
		once      sync.Once
		firstErr  error
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, len(bodies))
	)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				begin := time.Now()
				if err := putTxn(ctx, client, baseURL, prefix+strconv.Itoa(i), bodies[i]); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				took := time.Since(begin)
				mu.Lock()
				latencies = append(latencies, took)
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range bodies {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return latencies, firstErr
}

func putTxn(ctx context.Context, client *http.Client, baseURL, txnID string, body []byte) error {
	return fakehs.PushTransaction(ctx, client, baseURL, hsToken, txnID, body)
}

// pollUntil calls done every interval until it reports true, fails, or ctx ends.
func pollUntil(ctx context.Context, interval time.Duration, done func() (bool, error)) error {
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
