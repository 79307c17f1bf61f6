package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// arrival is a message a client's /sync delivered, with when it was processed.
type arrival struct {
	ID     id.EventID
	Sender id.UserID
	Body   string
	At     time.Time
}

// observer is a plain (unencrypted) Matrix client that syncs and stamps every
// message it sees with the time its /sync response was processed: the moment a
// person's client could have shown it. It is the agent's client of the relay
// benchmarks, and its clock is the one both paths are measured with.
type observer struct {
	*mautrix.Client

	mu       sync.Mutex
	rooms    map[id.RoomID][]arrival
	byBody   map[id.RoomID]map[string]time.Time
	byPrefix map[id.RoomID]map[string]int // see prefixOf
	changed  chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
}

// newObserver starts syncing as an account the test bed registered (its access
// token is already logged in).
func newObserver(ctx context.Context, hsURL string, userID id.UserID, token string, log zerolog.Logger) (*observer, error) {
	cli, err := mautrix.NewClient(hsURL, userID, token)
	if err != nil {
		return nil, err
	}
	cli.Log = log
	o := &observer{
		Client: cli, rooms: map[id.RoomID][]arrival{}, byBody: map[id.RoomID]map[string]time.Time{},
		byPrefix: map[id.RoomID]map[string]int{}, changed: make(chan struct{}), done: make(chan struct{}),
	}
	syncer := mautrix.NewDefaultSyncer()
	syncer.OnEventType(event.EventMessage, o.record)
	cli.Syncer = syncer
	syncCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	o.cancel = cancel
	go func() {
		defer close(o.done)
		for syncCtx.Err() == nil {
			if err := cli.SyncWithContext(syncCtx); err != nil && syncCtx.Err() == nil {
				log.Warn().Err(err).Msg("Observer sync failed; retrying")
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	return o, nil
}

// prefixOf is a message body up to its last "-": the benchmarks number their
// messages "<run>-<n>", so counting by prefix counts one run's arrivals.
func prefixOf(body string) string {
	return body[:strings.LastIndexByte(body, '-')+1]
}

func (o *observer) record(_ context.Context, evt *event.Event) {
	at := time.Now()
	if evt.Mautrix.EventSource&event.SourceTimeline == 0 {
		return
	}
	msg := evt.Content.AsMessage()
	if msg == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rooms[evt.RoomID] = append(o.rooms[evt.RoomID], arrival{ID: evt.ID, Sender: evt.Sender, Body: msg.Body, At: at})
	if o.byBody[evt.RoomID] == nil {
		o.byBody[evt.RoomID], o.byPrefix[evt.RoomID] = map[string]time.Time{}, map[string]int{}
	}
	if _, seen := o.byBody[evt.RoomID][msg.Body]; !seen {
		o.byBody[evt.RoomID][msg.Body] = at
		o.byPrefix[evt.RoomID][prefixOf(msg.Body)]++
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// waitUntil waits until cond, called under the lock after every arrival, holds.
func (o *observer) waitUntil(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		ok, changed := cond(), o.changed
		o.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("%s: not seen after %s", what, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitBody returns when the first message with this exact body arrived in the room.
func (o *observer) waitBody(ctx context.Context, roomID id.RoomID, body string, timeout time.Duration) (time.Time, error) {
	var at time.Time
	err := o.waitUntil(ctx, timeout, fmt.Sprintf("%q in %s", body, roomID), func() bool {
		var ok bool
		at, ok = o.byBody[roomID][body]
		return ok
	})
	return at, err
}

// waitMatch waits for a message from sender containing text in the room.
func (o *observer) waitMatch(ctx context.Context, roomID id.RoomID, sender id.UserID, text string, timeout time.Duration) error {
	return o.waitUntil(ctx, timeout, fmt.Sprintf("%q from %s", text, sender), func() bool {
		for _, a := range o.rooms[roomID] {
			if a.Sender == sender && strings.Contains(a.Body, text) {
				return true
			}
		}
		return false
	})
}

// waitCount waits until n distinct bodies with the prefix arrived in the room, or
// until nothing new arrived for `stall`; it returns how many arrived.
func (o *observer) waitCount(ctx context.Context, roomID id.RoomID, prefix string, n int, stall time.Duration) int {
	last := -1
	for {
		var got int
		err := o.waitUntil(ctx, stall, "", func() bool {
			got = o.byPrefix[roomID][prefix]
			return got >= n || got != last
		})
		if err != nil || got >= n {
			return got
		}
		last = got
	}
}

// arrivals returns the messages seen in a room whose body has the prefix, in the
// order they arrived (duplicates included).
func (o *observer) arrivals(roomID id.RoomID, prefix string) []arrival {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []arrival
	for _, a := range o.rooms[roomID] {
		if strings.HasPrefix(a.Body, prefix) {
			out = append(out, a)
		}
	}
	return out
}

func (o *observer) close() {
	o.cancel()
	o.StopSync()
	<-o.done
}
