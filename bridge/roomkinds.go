package bridge

import (
	"sync"

	"maunium.net/go/mautrix/id"
)

// maxRoomKinds bounds the rooms whose kind is remembered; when full, all are forgotten
// (each is found again with one miss).
const maxRoomKinds = 50_000

// roomKinds remembers what staff rooms (control, desk and side rooms) turned out to be,
// so that classifying one again reads the one table that holds its record instead of
// trying them in turn: an agent's message in a desk room took three reads (customer
// rooms, control rooms, conversations), it takes one. Customer rooms are read first
// anyway. A room's kind never changes; its record may go (a staff member removed, a
// conversation deleted after its retention), which that one read finds, and the room
// is then classified from the start.
type roomKinds struct {
	mu    sync.Mutex
	kinds map[id.RoomID]roomKind
}

func (r *roomKinds) get(roomID id.RoomID) roomKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kinds[roomID]
}

func (r *roomKinds) put(roomID id.RoomID, kind roomKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kinds == nil || len(r.kinds) >= maxRoomKinds {
		r.kinds = map[id.RoomID]roomKind{}
	}
	r.kinds[roomID] = kind
}

func (r *roomKinds) forget(roomID id.RoomID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.kinds, roomID)
}
