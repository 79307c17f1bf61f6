package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
)

// A desk room's only service member is the customer's ghost (the business identity
// stays out so that the room keeps two members for calls), so the business identity's
// /sync never sees agents typing or reading there, and Dendrite pushes no ephemeral
// event to appservices. One loop therefore reads, every desk_poll_interval, the desk
// rooms of assigned conversations (where agents are) with a /sync that does not wait
// (timeout=0) as each room's ghost, filtered to that room's typing and receipts. It
// holds no goroutine or connection per conversation, only each room's /sync position
// (a short string) while the conversation is assigned; a round asks at most
// deskRoomsPerRound rooms, deskPollWorkers at once, taking rooms in turn beyond that.
// A long poll per conversation would hold a connection, and a goroutine, for each.
// The same loop refreshes the index of open conversations (ephemeralindex.go). Once
// the homeserver pushes ephemeral events, the desk rooms are no longer read.

const (
	// deskRoomsPerRound bounds a round's requests whatever the number of assigned
	// conversations.
	deskRoomsPerRound = 200
	// deskPollWorkers is how many desk rooms are read at once.
	deskPollWorkers = 4
)

// loop refreshes the index and reads the desk rooms every interval until ctx ends.
func (r *nativeRelay) loop(ctx context.Context) {
	ticker := time.NewTicker(r.cfg.PollInterval())
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		idx := r.refreshIndex(ctx)
		if r.deskReads() {
			r.pollDesks(ctx, idx)
			r.pollCustomerRooms(ctx, idx)
		}
	}
}

// deskReads tells whether desk rooms are read: they carry agents' typing and
// receipts, which are relayed only from a source the relay takes.
func (r *nativeRelay) deskReads() bool {
	return (r.cfg.Typing || r.cfg.Receipts) && r.cfg.Source() != config.EphemeralPush && !r.pushed.Load()
}

// pollDesks reads this round's desk rooms.
func (r *nativeRelay) pollDesks(ctx context.Context, idx *convIndex) {
	links := r.nextDesks(idx)
	work := make(chan *convLink)
	var workers sync.WaitGroup
	for range min(deskPollWorkers, len(links)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for l := range work {
				r.pollDesk(ctx, l)
			}
		}()
	}
	for _, l := range links {
		work <- l
	}
	close(work)
	workers.Wait()
}

// nextDesks picks this round's assigned conversations: all when they fit, otherwise
// the next deskRoomsPerRound in desk room order after the last round's.
func (r *nativeRelay) nextDesks(idx *convIndex) []*convLink {
	var links []*convLink
	for _, l := range idx.convs {
		if l.assigned {
			links = append(links, l)
		}
	}
	if len(links) <= deskRoomsPerRound {
		return links
	}
	slices.SortFunc(links, func(a, b *convLink) int { return compareRooms(a.deskRoom, b.deskRoom) })
	start, _ := slices.BinarySearchFunc(links, r.after, func(l *convLink, room id.RoomID) int { return compareRooms(l.deskRoom, room) })
	if start < len(links) && links[start].deskRoom == r.after {
		start++
	}
	picked := make([]*convLink, 0, deskRoomsPerRound)
	for i := range deskRoomsPerRound {
		picked = append(picked, links[(start+i)%len(links)])
	}
	r.after = picked[len(picked)-1].deskRoom
	return picked
}

func compareRooms(a, b id.RoomID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// deskSyncResponse is the part of a /sync answer the poller reads.
type deskSyncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join map[id.RoomID]struct {
			Ephemeral struct {
				Events []*event.Event `json:"events"`
			} `json:"ephemeral"`
		} `json:"join"`
	} `json:"rooms"`
}

// pollDesk reads a desk room's typing and receipts since its last position and hands
// them to the relay. Of the first read, which takes a position, only typing counts:
// its receipts are the room's past.
func (r *nativeRelay) pollDesk(ctx context.Context, l *convLink) {
	r.mu.Lock()
	since := r.since[l.deskRoom]
	r.mu.Unlock()
	query := url.Values{"timeout": {"0"}, "set_presence": {"offline"}, "filter": {deskFilter(l.deskRoom)}}
	if since != "" {
		query.Set("since", since)
	}
	r.stats.DeskPolls.Add(1)
	var resp deskSyncResponse
	if err := r.request(ctx, l.ghost, http.MethodGet, mautrix.ClientURLPath{"v3", "sync"}, query, nil, &resp); err != nil {
		// A room just created may not have its ghost joined yet; the next round asks again.
		zerolog.Ctx(ctx).Debug().Err(err).Stringer("room_id", l.deskRoom).Msg("Could not read a desk room's typing and receipts")
		return
	}
	if resp.NextBatch == "" {
		return
	}
	r.mu.Lock()
	if r.index.Load().link(l.deskRoom) != nil {
		r.since[l.deskRoom] = resp.NextBatch
	}
	r.mu.Unlock()
	room, ok := resp.Rooms.Join[l.deskRoom]
	if !ok {
		return
	}
	for _, evt := range room.Ephemeral.Events {
		// The first read's receipts are the room's past; its typing is the present.
		if evt != nil && (since != "" || evt.Type.Type == event.EphemeralEventTyping.Type) {
			evt.RoomID = l.deskRoom
			r.b.handleEphemeral(nil, false, evt)
		}
	}
}

// pollCustomerRooms reads, for each tenant with an assigned conversation, what its
// business identity's long /sync should already have brought: typing and receipts in
// the customer rooms. Under load Dendrite does not always wake a waiting /sync for
// a typing notification that came over federation, which leaves the customer's
// typing unseen until the long poll times out (30 s); one read per tenant that does
// not wait, each round, bounds that to the poll interval. Relaying is idempotent
// (typing only on change, a receipt once per event), so an event seen by both is
// relayed once.
func (r *nativeRelay) pollCustomerRooms(ctx context.Context, idx *convIndex) {
	tenants := map[*Tenant]bool{}
	for _, l := range idx.convs {
		if l.assigned {
			tenants[l.tenant] = true
		}
	}
	for t := range tenants {
		r.mu.Lock()
		since := r.customerSince[t.ID]
		r.mu.Unlock()
		query := url.Values{"timeout": {"0"}, "set_presence": {"offline"}, "filter": {deskFilter("")}}
		if since != "" {
			query.Set("since", since)
		}
		var resp deskSyncResponse
		if err := r.request(ctx, t.UserID, http.MethodGet, mautrix.ClientURLPath{"v3", "sync"}, query, nil, &resp); err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Str("tenant", t.ID).Msg("Could not read the customer rooms' typing and receipts")
			continue
		}
		if resp.NextBatch == "" {
			continue
		}
		r.mu.Lock()
		r.customerSince[t.ID] = resp.NextBatch
		r.mu.Unlock()
		for roomID, room := range resp.Rooms.Join {
			if l := idx.link(roomID); l == nil || l.customerRoom != roomID {
				continue
			}
			for _, evt := range room.Ephemeral.Events {
				// The first read's receipts are the rooms' past; its typing is the present.
				if evt != nil && (since != "" || evt.Type.Type == event.EphemeralEventTyping.Type) {
					evt.RoomID = roomID
					r.b.handleEphemeral(t, false, evt)
				}
			}
		}
	}
}

// deskFilter asks for a room's (or, for "", every room's) typing and receipts and nothing else (homeservers that
// apply filters to ephemeral events; Dendrite 0.13.8 returns those of all the ghost's
// rooms, which the poller skips).
func deskFilter(room id.RoomID) string {
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	var rooms []id.RoomID // none: every room
	if room != "" {
		rooms = []id.RoomID{room}
	}
	f := mautrix.Filter{
		AccountData: none,
		Presence:    none,
		Room: &mautrix.RoomFilter{
			Rooms:       rooms,
			AccountData: none,
			Ephemeral:   &mautrix.FilterPart{Types: []event.Type{event.EphemeralEventTyping, event.EphemeralEventReceipt}},
			State:       &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}, LazyLoadMembers: true},
			Timeline:    &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}, Limit: 1},
		},
	}
	data, _ := json.Marshal(f)
	return string(data)
}
