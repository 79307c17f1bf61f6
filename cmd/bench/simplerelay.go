package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// copiesPerMessage is what a relay sends per customer message: ours sends the desk
// room's copy and the side room's mirror.
const copiesPerMessage = 2

// simpleRelayWorkers is how many messages the simple relay works on at once, as many
// as ours (the example config's workers).
const simpleRelayWorkers = 16

// durableRelay is the simplest durable relay on PostgreSQL, a reference for ours: about
// the least a relay that loses nothing on a crash does per message, written as cheaply
// as lib/pq allows (batching across messages, as ours does, can go below it). Before
// the 200 a transaction's messages are stored (one INSERT); each then takes one
// statement (its inbox row handled and its two copies queued, atomically), the two
// sends (transaction IDs from the copies' keys, so a resend after a crash is not a
// second message), and one statement recording both sent. Rooms are worked in
// parallel by simpleRelayWorkers, each room always by the same one (its order kept).
// Nothing else: no leases for replicas, no conversation, consent or routing, no event
// map, no retries. It tells how close to the echo durability alone lets a relay get.
type durableRelay struct {
	// ingest stores transactions on connections of its own: the homeserver sends the
	// next transaction only after the 200, so ingest must not queue behind the workers.
	db, ingest  *sql.DB
	inserts     sync.Map // messages in a transaction (int) -> *sql.Stmt storing them
	intent      *appservice.IntentAPI
	queue, sent *sql.Stmt
	workers     [simpleRelayWorkers]chan *event.Event
	failed      func(error)
}

const simpleRelaySchema = `CREATE TABLE inbox (event_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, body TEXT NOT NULL, handled BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE outbox (key TEXT PRIMARY KEY, room_id TEXT NOT NULL, content TEXT NOT NULL, event_id TEXT)`

// startDurableRelay starts the simple relay's database and workers; failed hears of every
// message not relayed.
func startDurableRelay(ctx context.Context, pg *pgcluster.Cluster, intent *appservice.IntentAPI, failed func(error)) (_ *durableRelay, err error) {
	uri, err := pg.CreateDatabase(ctx, fmt.Sprintf("simple_relay_%d_%d", os.Getpid(), dbCounter.Add(1)))
	if err != nil {
		return nil, err
	}
	d := &durableRelay{intent: intent, failed: failed}
	if d.db, err = sql.Open("postgres", uri); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	d.db.SetMaxOpenConns(10) // the example config's pool, kept open
	d.db.SetMaxIdleConns(10)
	if d.ingest, err = sql.Open("postgres", uri); err != nil {
		return nil, err
	}
	d.ingest.SetMaxOpenConns(2)
	d.ingest.SetMaxIdleConns(2)
	if _, err = d.db.ExecContext(ctx, simpleRelaySchema); err != nil {
		return nil, err
	}
	if d.queue, err = d.db.PrepareContext(ctx, `WITH handled AS (UPDATE inbox SET handled = true WHERE event_id = $1)
		INSERT INTO outbox (key, room_id, content) VALUES ($1 || '|desk', $2, $3), ($1 || '|side', $2, $3) ON CONFLICT DO NOTHING`); err != nil {
		return nil, err
	}
	if d.sent, err = d.db.PrepareContext(ctx, `UPDATE outbox SET event_id = CASE key WHEN $1 THEN $2 ELSE $4 END WHERE key IN ($1, $3)`); err != nil {
		return nil, err
	}
	for i := range d.workers {
		d.workers[i] = make(chan *event.Event, 1024)
		go func() {
			for evt := range d.workers[i] {
				if err := d.relay(context.WithoutCancel(ctx), evt); err != nil {
					d.failed(err)
				}
			}
		}()
	}
	return d, nil
}

// hand gives a message to its room's worker.
func (d *durableRelay) hand(evt *event.Event) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(evt.RoomID))
	d.workers[h.Sum32()%simpleRelayWorkers] <- evt
}

// storing stores a transaction's messages before the appservice sees (and answers) it.
func (d *durableRelay) storing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_matrix/app/v1/transactions/") {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				err = d.store(r.Context(), body)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

func (d *durableRelay) store(ctx context.Context, body []byte) error {
	var txn struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &txn); err != nil {
		return err
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO inbox (event_id, room_id, body) VALUES ")
	var args []any
	for _, raw := range txn.Events {
		var evt struct {
			EventID string `json:"event_id"`
			RoomID  string `json:"room_id"`
			Type    string `json:"type"`
		}
		if err := json.Unmarshal(raw, &evt); err != nil {
			return err
		}
		if evt.Type != event.EventMessage.Type {
			continue // the setup's invites: handled in memory, relayed never
		}
		if len(args) > 0 {
			sb.WriteString(", ")
		}
		n := len(args)
		sb.WriteString("($" + strconv.Itoa(n+1) + ", $" + strconv.Itoa(n+2) + ", $" + strconv.Itoa(n+3) + ")")
		args = append(args, evt.EventID, evt.RoomID, string(raw))
	}
	if len(args) == 0 {
		return nil
	}
	sb.WriteString(" ON CONFLICT DO NOTHING")
	stmt, err := d.insertOf(ctx, len(txn.Events), sb.String())
	if err == nil {
		_, err = stmt.ExecContext(ctx, args...)
	}
	return err
}

// insertOf is the prepared statement storing n messages (lib/pq runs a prepared
// statement in one round trip, an unprepared one in two).
func (d *durableRelay) insertOf(ctx context.Context, n int, query string) (*sql.Stmt, error) {
	if stmt, ok := d.inserts.Load(n); ok {
		return stmt.(*sql.Stmt), nil
	}
	stmt, err := d.ingest.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.inserts.LoadOrStore(n, stmt); loaded {
		_ = stmt.Close()
		return prev.(*sql.Stmt), nil
	}
	return stmt, nil
}

// relay queues a message's copies, sends them and records them sent.
func (d *durableRelay) relay(ctx context.Context, evt *event.Event) error {
	text := "Relay: " + evt.Content.AsMessage().Body
	if _, err := d.queue.ExecContext(ctx, evt.ID, evt.RoomID, text); err != nil {
		return err
	}
	keys := [copiesPerMessage]string{string(evt.ID) + "|desk", string(evt.ID) + "|side"}
	var sent [copiesPerMessage]id.EventID
	for i, key := range keys {
		resp, err := d.intent.SendMessageEvent(ctx, evt.RoomID, event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgNotice, Body: text}, mautrix.ReqSendEvent{TransactionID: key})
		if err != nil {
			return err
		}
		sent[i] = resp.EventID
	}
	_, err := d.sent.ExecContext(ctx, keys[0], sent[0], keys[1], sent[1])
	return err
}

// verify checks that every message stored was handled and both its copies recorded
// sent, waiting a little for the last records (the clock stops at the last send).
func (d *durableRelay) verify(ctx context.Context, messages int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var stored, handled, sent int
	err := pollUntil(ctx, pollInterval, func() (bool, error) {
		err := d.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM inbox), (SELECT COUNT(*) FROM inbox WHERE handled),
			(SELECT COUNT(*) FROM outbox WHERE event_id IS NOT NULL)`).Scan(&stored, &handled, &sent)
		return err == nil && handled == stored && sent == copiesPerMessage*stored, err
	})
	if err != nil || stored < messages {
		return fmt.Errorf("simple relay: %d messages stored, %d handled, %d copies recorded sent, for %d sent to it: %w",
			stored, handled, sent, messages, err)
	}
	return nil
}

func (d *durableRelay) close() {
	for _, w := range d.workers {
		if w != nil {
			close(w)
		}
	}
	for _, db := range []*sql.DB{d.db, d.ingest} {
		if db != nil {
			_ = db.Close()
		}
	}
}

// keepConnections lets client keep n idle connections to the homeserver (Go keeps two),
// as the service does for its parallel sends.
func keepConnections(client *http.Client, n int) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = n
	client.Transport = t
}
