package bridge

import (
	"context"
	"hash/fnv"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
)

// Typing notifications, read receipts and presence are ephemeral: relaying a stale
// one is worse than dropping it, so they never enter the inbox and never wait behind
// a room's ordered events. They arrive from three places: pushed in transactions
// (MSC2409, where the homeserver does that), the business identity's /sync (customer
// rooms, staff presence) and the desk-room poller (ephemeraldesk.go). Each is handed
// to one of a few lanes, chosen by room, so that a room's notifications keep their
// order while the sync loop and the HTTP handler never wait for a relay. Nothing here
// holds a goroutine, connection or sync loop per conversation: per open conversation
// there is one index entry, and per room only while something is on (a typing
// notification) or was relayed (the last receipt).

const (
	// ephemeralLanes is how many goroutines relay; ephemeralLaneDepth how many events
	// each holds before newer ones are dropped.
	ephemeralLanes     = 4
	ephemeralLaneDepth = 512
	// ephemeralRequestTimeout bounds one typing, receipt or desk-room request.
	ephemeralRequestTimeout = 15 * time.Second
)

// nativeRelay relays typing notifications and read receipts between the customer
// room and the desk room of open conversations, and moves staff by their presence.
type nativeRelay struct {
	b   *Bridge
	cfg config.NativeConfig
	// cli acts as any of the service's users through the appservice token and
	// ?user_id=, one request at a time naming its user.
	cli   *mautrix.Client
	lanes [ephemeralLanes]chan ephemeralItem
	// index maps the customer and desk rooms of open conversations to them,
	// replaced whole every round (ephemeraldesk.go).
	index atomic.Pointer[convIndex]
	// pushed is set once the homeserver pushed an ephemeral event (auto mode).
	pushed atomic.Bool
	// off: nothing to relay (or the inbox is held); events are dropped.
	off atomic.Bool

	mu sync.Mutex
	// typing is what the service's users show as typing, by room and user.
	typing map[typingKey]*typingOut
	// receipts is the last event a receipt was relayed for, by target room.
	receipts map[id.RoomID]id.EventID
	// presence is the last presence seen of each tenant's staff.
	presence map[presenceKey]event.Presence
	// since is the desk poller's /sync position per desk room.
	since map[id.RoomID]string
	// customerSince is each tenant's position in the poll of its customer rooms.
	customerSince map[string]string
	// after is the desk room the last poll round ended at.
	after id.RoomID

	stats nativeStats
}

// nativeStats count what the relay did, for the benchmarks and the tests.
type nativeStats struct {
	Received, Dropped, Typing, Receipts, DeskPolls, Presence atomic.Int64
}

// NativeStats is a snapshot of the relay's counters.
type NativeStats struct {
	// Received: ephemeral events taken (pushed or synced); Dropped: of them, those
	// dropped because a lane was full.
	Received, Dropped int64
	// Typing and Receipts: requests sent to relay them; DeskPolls: desk-room reads.
	Typing, Receipts, DeskPolls int64
	// Presence: staff moved by their presence.
	Presence int64
	// Indexed: open conversations the relay knows.
	Indexed int
}

// NativeStats reads the relay's counters (zero before it started).
func (b *Bridge) NativeStats() NativeStats {
	r := b.native.Load()
	if r == nil {
		return NativeStats{}
	}
	out := NativeStats{
		Received: r.stats.Received.Load(), Dropped: r.stats.Dropped.Load(), Typing: r.stats.Typing.Load(),
		Receipts: r.stats.Receipts.Load(), DeskPolls: r.stats.DeskPolls.Load(), Presence: r.stats.Presence.Load(),
	}
	if idx := r.index.Load(); idx != nil {
		out.Indexed = len(idx.convs)
	}
	return out
}

// ephemeralItem is one ephemeral event waiting in a lane. tenant is the business
// identity whose /sync saw it (nil when pushed or polled).
type ephemeralItem struct {
	evt    *event.Event
	tenant *Tenant
}

// prepareNative makes the relay, once: the business identities' /sync loops start
// before the relay does, and what their first answers bring (staff presence above
// all) waits in the lanes until it runs.
func (b *Bridge) prepareNative() *nativeRelay {
	if r := b.native.Load(); r != nil {
		return r
	}
	cli := b.newClient(b.AS.BotMXID())
	cli.AccessToken = b.Config.Appservice.ASToken
	cli.SetAppServiceUserID = false
	r := &nativeRelay{b: b, cfg: b.Config.Native, cli: cli, typing: map[typingKey]*typingOut{}, receipts: map[id.RoomID]id.EventID{},
		presence: map[presenceKey]event.Presence{}, since: map[id.RoomID]string{}, customerSince: map[string]string{}}
	for i := range r.lanes {
		r.lanes[i] = make(chan ephemeralItem, ephemeralLaneDepth)
	}
	r.index.Store(&convIndex{})
	if !b.native.CompareAndSwap(nil, r) {
		return b.native.Load()
	}
	return r
}

// startNative starts the relay's lanes and its loop (index and desk rooms), unless
// the inbox is held or there is nothing to relay.
func (b *Bridge) startNative(ctx context.Context) error {
	r := b.prepareNative()
	cfg := b.Config.Native
	presence := false
	for _, t := range b.tenants {
		presence = presence || t.PresenceAvailability
	}
	if b.HoldInbox || (!cfg.Typing && !cfg.Receipts && !presence) {
		r.off.Store(true)
		return nil
	}
	ctx = zerolog.Ctx(ctx).With().Str("component", "native").Logger().WithContext(ctx)
	// The index is read before the first event is relayed.
	r.refreshIndex(ctx)
	for i := range r.lanes {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			r.runLane(ctx, r.lanes[i])
		}()
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		r.loop(ctx)
	}()
	return nil
}

// takes tells whether an ephemeral event from this source is to be relayed: pushed
// ones in push mode, synced ones in sync mode; in auto mode synced ones until the
// first pushed one arrives, and pushed ones from then on.
func (r *nativeRelay) takes(pushed bool) bool {
	switch r.cfg.Source() {
	case config.EphemeralPush:
		return pushed
	case config.EphemeralSync:
		return !pushed
	}
	if pushed {
		if !r.pushed.Swap(true) {
			r.b.Log.Info().Msg("The homeserver pushes ephemeral events: relaying those, no longer reading them with /sync")
		}
		return true
	}
	return !r.pushed.Load()
}

// submit hands an event to its lane without waiting: a full lane drops it.
func (r *nativeRelay) submit(item ephemeralItem) {
	r.stats.Received.Add(1)
	h := fnv.New32a()
	if item.evt.RoomID != "" {
		_, _ = h.Write([]byte(item.evt.RoomID))
	} else {
		_, _ = h.Write([]byte(item.evt.Sender))
	}
	select {
	case r.lanes[h.Sum32()%ephemeralLanes] <- item:
	default:
		r.stats.Dropped.Add(1)
	}
}

// runLane relays a lane's events in order until ctx ends. A panic costs one event.
func (r *nativeRelay) runLane(ctx context.Context, lane chan ephemeralItem) {
	for {
		select {
		case <-ctx.Done():
			return
		case item := <-lane:
			r.handleSafely(ctx, item)
		}
	}
}

func (r *nativeRelay) handleSafely(ctx context.Context, item ephemeralItem) {
	defer func() {
		if p := recover(); p != nil {
			zerolog.Ctx(ctx).Error().Any("panic", p).Str("type", item.evt.Type.Type).Msg("Panic relaying an ephemeral event")
		}
	}()
	switch item.evt.Type {
	case event.EphemeralEventTyping:
		if r.cfg.Typing {
			r.relayTyping(ctx, item.evt)
		}
	case event.EphemeralEventReceipt:
		if r.cfg.Receipts {
			r.relayReceipts(ctx, item.evt)
		}
	case event.EphemeralEventPresence:
		r.onPresence(ctx, item.tenant, item.evt)
	}
}

// handleEphemeral takes ephemeral events: pushed (tenant nil) or seen by a tenant's
// business identity's /sync. Before the relay started they are dropped.
func (b *Bridge) handleEphemeral(tenant *Tenant, pushed bool, evts ...*event.Event) {
	r := b.native.Load()
	if r == nil || r.off.Load() || len(evts) == 0 || !r.takes(pushed) {
		return
	}
	for _, evt := range evts {
		if evt == nil {
			continue
		}
		evt.Type.Class = event.EphemeralEventType
		if evt.Content.Parsed == nil {
			if err := evt.Content.ParseRaw(evt.Type); err != nil {
				continue
			}
		}
		r.submit(ephemeralItem{evt: evt, tenant: tenant})
	}
}

// request sends one request as one of the service's users.
func (r *nativeRelay) request(ctx context.Context, as id.UserID, method string, path mautrix.ClientURLPath, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, ephemeralRequestTimeout)
	defer cancel()
	address := r.cli.BuildURLWithFullQuery(path, func(q url.Values) {
		for k, v := range query {
			q[k] = v
		}
		q.Set("user_id", as.String())
	})
	req := mautrix.FullRequest{Method: method, URL: address, RequestJSON: body, ResponseJSON: out, MaxAttempts: 1}
	if method == http.MethodGet {
		req.RequestJSON = nil
	}
	_, err := r.cli.MakeFullRequest(ctx, req)
	return err
}
