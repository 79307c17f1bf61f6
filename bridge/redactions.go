package bridge

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// Dendrite 0.13.8 pushes no redaction to appservices, local or federated (measured on
// the test bed). Customer and side rooms are covered by the business identity's own
// /sync; a desk room's only service member is the customer's ghost (the business
// identity stays out so that the room keeps two members for calls), so while a
// conversation is open the service reads its desk room's new events with /messages, as
// the ghost, and files the redactions among them. One loop serves every open
// conversation, a fixed number of rooms per round on a fixed number of requests at
// once: the service holds no goroutine, connection or sync state per conversation, and
// the homeserver gets at most redactionRoomsPerRound requests per round whatever the
// number of open conversations. Homeservers that push redactions (Synapse) turn this
// off with homeserver.sync_redactions: false; left on, the inbox files each event once.

const (
	// redactionPollInterval is the pause between rounds.
	redactionPollInterval = 2 * time.Second
	// redactionRoomsPerRound bounds the homeserver requests of a round; with more open
	// conversations than this, rounds take the rooms in turn.
	redactionRoomsPerRound = 200
	// redactionPollWorkers is how many rooms are asked at once.
	redactionPollWorkers = 4
)

// watchDeskRedactions files the redactions of open conversations' desk rooms in the
// inbox until ctx ends, and returns once its requests have stopped.
func (b *Bridge) watchDeskRedactions(ctx context.Context) {
	poller := newRedactionPoller(b)
	ctx = zerolog.Ctx(ctx).With().Str("component", "redaction_poll").Logger().WithContext(ctx)
	ticker := time.NewTicker(redactionPollInterval)
	defer ticker.Stop()
	for {
		poller.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// openDeskRooms maps each open conversation's desk room to its ghost; nil when the
// database could not say, so that nothing is forgotten on a failed read.
func (b *Bridge) openDeskRooms(ctx context.Context) map[id.RoomID]id.UserID {
	open := map[id.RoomID]id.UserID{}
	for _, t := range b.tenants {
		convs, err := b.DB.Conversation.OpenOfTenant(ctx, t.ID)
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Msg("Could not list open conversations; redactions wait for the next round")
			return nil
		}
		for _, conv := range convs {
			if conv.DeskRoom != "" {
				open[conv.DeskRoom] = conv.Ghost
			}
		}
	}
	return open
}

// round asks up to redactionRoomsPerRound open desk rooms for their new events, taking
// up after the room the previous round ended at, and forgets the positions of rooms
// whose conversation ended.
func (p *redactionPoller) round(ctx context.Context) {
	open := p.b.openDeskRooms(ctx)
	if open == nil {
		return
	}
	positions, err := p.positions.All(ctx)
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Msg("Could not read redaction positions; trying again next round")
		return
	}
	for room := range positions {
		if _, ok := open[room]; !ok {
			if err = p.positions.Forget(ctx, room); err != nil {
				zerolog.Ctx(ctx).Debug().Err(err).Stringer("room_id", room).Msg("Could not forget a redaction position")
			}
		}
	}
	rooms := p.nextRooms(open)
	work := make(chan id.RoomID)
	var workers sync.WaitGroup
	for range min(redactionPollWorkers, len(rooms)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for room := range work {
				p.pollRoom(ctx, room, open[room], positions[room])
			}
		}()
	}
	for _, room := range rooms {
		work <- room
	}
	close(work)
	workers.Wait()
}

// nextRooms picks this round's rooms: all of them when they fit, otherwise the next
// redactionRoomsPerRound in room ID order after the last round's, wrapping around.
func (p *redactionPoller) nextRooms(open map[id.RoomID]id.UserID) []id.RoomID {
	rooms := make([]id.RoomID, 0, len(open))
	for room := range open {
		rooms = append(rooms, room)
	}
	if len(rooms) <= redactionRoomsPerRound {
		return rooms
	}
	slices.Sort(rooms)
	start, _ := slices.BinarySearch(rooms, p.after)
	if start < len(rooms) && rooms[start] == p.after {
		start++
	}
	picked := make([]id.RoomID, 0, redactionRoomsPerRound)
	for i := range redactionRoomsPerRound {
		picked = append(picked, rooms[(start+i)%len(rooms)])
	}
	p.after = picked[len(picked)-1]
	return picked
}
