package bridge

import (
	"sync"

	"maunium.net/go/mautrix/id"
)

// maxHints bounds what a set of hints remembers; when full, all is forgotten (each
// is found again with one miss).
const maxHints = 50_000

// hints remember what the database said once and will say again, to spare reads or
// writes on an event's path. A hint must stay true, or be found out by the work it
// spares (and then forgotten).
type hints[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func (h *hints[K, V]) get(key K) (V, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[key]
	return v, ok
}

func (h *hints[K, V]) put(key K, v V) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHints {
		h.m = map[K]V{}
	}
	h.m[key] = v
}

func (h *hints[K, V]) forget(key K) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, key)
}

// roomKinds remembers what staff rooms (control, desk and side rooms) turned out to be,
// so that classifying one again reads the one table that holds its record instead of
// trying them in turn: an agent's message in a desk room took three reads (customer
// rooms, control rooms, conversations), it takes one. Customer rooms are read first
// anyway. A room's kind never changes; its record may go (a staff member removed, a
// conversation deleted after its retention), which that one read finds, and the room
// is then classified from the start.
type roomKinds = hints[id.RoomID, roomKind]

// firstResponses remembers the conversations whose first agent response is in the
// contact log (logAgentMessage), so that an agent's later messages write nothing but
// their copies (commitRelays). The entry stays as long as its open conversation; a
// replica without the hint writes it again, which changes nothing.
type firstResponses = hints[int64, struct{}]
