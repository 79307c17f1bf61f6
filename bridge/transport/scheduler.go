package transport

import (
	"strings"
	"sync"

	"maunium.net/go/mautrix/id"
)

// fairness is how a queue's workers are shared.
type fairness struct {
	// workers bounds the rooms worked on at once.
	workers int
	// perKey bounds the rooms of one key worked on at once.
	perKey int
	// keyOf names the key a room's work depends on (its remote server).
	keyOf func(id.RoomID) string
}

// ServerOf is the default fairness key: the server part of a room ID ("" for room IDs
// without one). A room's handlers and sends wait on that server more than on any
// other (federated joins, media, the customer's own homeserver).
func ServerOf(roomID id.RoomID) string {
	_, server, _ := strings.Cut(string(roomID), ":")
	return server
}

// turn is one room's go at a worker.
type turn struct {
	room id.RoomID
	key  string
}

// scheduler hands workers out: round-robin between keys that have rooms waiting,
// first come first served between the rooms of a key, and a room that used its turn
// and has rows left goes to the back of its key's line. A room is queued or running
// at most once.
type scheduler struct {
	fair fairness

	mu      sync.Mutex
	running int
	perKey  map[string]int
	lines   map[string][]id.RoomID // rooms waiting, per key
	keys    []string               // keys with rooms waiting, in round-robin order
	queued  map[id.RoomID]bool     // waiting or running
	again   map[id.RoomID]bool     // asked for while running
	working map[id.RoomID]bool     // running
}

func newScheduler(fair fairness) *scheduler {
	if fair.workers < 1 {
		fair.workers = 1
	}
	if fair.perKey < 1 || fair.perKey > fair.workers {
		fair.perKey = fair.workers
	}
	if fair.keyOf == nil {
		fair.keyOf = ServerOf
	}
	return &scheduler{
		fair: fair, perKey: map[string]int{}, lines: map[string][]id.RoomID{},
		queued: map[id.RoomID]bool{}, again: map[id.RoomID]bool{}, working: map[id.RoomID]bool{},
	}
}

// add queues a room and returns the turns that may start now.
func (s *scheduler) add(roomID id.RoomID) []turn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued[roomID] {
		if s.working[roomID] {
			s.again[roomID] = true
		}
		return nil
	}
	s.enqueue(roomID)
	return s.dispatch()
}

// done ends a turn; more says the room has rows left. A room asked for while it ran
// is queued again too. It returns the turns that may start now.
func (s *scheduler) done(t turn, more bool) []turn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	s.perKey[t.key]--
	if s.perKey[t.key] == 0 {
		delete(s.perKey, t.key)
	}
	delete(s.working, t.room)
	delete(s.queued, t.room)
	again := s.again[t.room]
	delete(s.again, t.room)
	if more || again {
		s.enqueue(t.room)
	}
	return s.dispatch()
}

func (s *scheduler) enqueue(roomID id.RoomID) {
	s.queued[roomID] = true
	key := s.fair.keyOf(roomID)
	if len(s.lines[key]) == 0 {
		s.keys = append(s.keys, key)
	}
	s.lines[key] = append(s.lines[key], roomID)
}

// dispatch starts what the limits allow, taking keys in turn.
func (s *scheduler) dispatch() []turn {
	var out []turn
	for s.running < s.fair.workers {
		picked := -1
		for i, key := range s.keys {
			if s.perKey[key] < s.fair.perKey {
				picked = i
				break
			}
		}
		if picked < 0 {
			break
		}
		key := s.keys[picked]
		line := s.lines[key]
		roomID := line[0]
		if len(line) == 1 {
			delete(s.lines, key)
			s.keys = append(s.keys[:picked], s.keys[picked+1:]...)
		} else {
			s.lines[key] = line[1:]
			// The key goes to the back: the next worker goes to another key.
			s.keys = append(append(s.keys[:picked], s.keys[picked+1:]...), key)
		}
		s.running++
		s.perKey[key]++
		s.working[roomID] = true
		out = append(out, turn{room: roomID, key: key})
	}
	return out
}

// wanted tells whether a running room was asked for again while it ran.
func (s *scheduler) wanted(roomID id.RoomID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.again[roomID]
}
