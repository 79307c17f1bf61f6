package bridge

import (
	"context"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"
)

// notEncryptedFor is how long "this room is not encrypted" is believed without asking
// the state store again. An m.room.encryption event handled by this process forgets
// the answer at once; one handled by another replica is seen at the latest this much
// later, which is shorter than the homeserver takes to deliver the event at all.
const notEncryptedFor = time.Second

// maxNotEncrypted bounds the negative answers kept; past it, expired ones are dropped.
const maxNotEncrypted = 4096

// encryptedRooms remembers whether rooms are encrypted, so that a send does not ask
// the state store each time. Encryption can never be turned off in a room, so a
// positive answer is final.
type encryptedRooms struct {
	mu           sync.Mutex
	encrypted    map[id.RoomID]struct{}
	notEncrypted map[id.RoomID]time.Time // until when the answer holds
}

// isEncrypted answers from memory or, failing that, from ask (the state store).
func (e *encryptedRooms) isEncrypted(ctx context.Context, roomID id.RoomID, now time.Time,
	ask func(ctx context.Context, roomID id.RoomID) (bool, error)) (bool, error) {
	e.mu.Lock()
	if _, ok := e.encrypted[roomID]; ok {
		e.mu.Unlock()
		return true, nil
	}
	if until, ok := e.notEncrypted[roomID]; ok && now.Before(until) {
		e.mu.Unlock()
		return false, nil
	}
	e.mu.Unlock()
	encrypted, err := ask(ctx, roomID)
	if err != nil {
		return false, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if encrypted {
		if e.encrypted == nil {
			e.encrypted = map[id.RoomID]struct{}{}
		}
		e.encrypted[roomID] = struct{}{}
		delete(e.notEncrypted, roomID)
		return true, nil
	}
	if e.notEncrypted == nil {
		e.notEncrypted = map[id.RoomID]time.Time{}
	}
	if len(e.notEncrypted) >= maxNotEncrypted {
		for room, until := range e.notEncrypted {
			if !now.Before(until) {
				delete(e.notEncrypted, room)
			}
		}
	}
	if len(e.notEncrypted) < maxNotEncrypted {
		e.notEncrypted[roomID] = now.Add(notEncryptedFor)
	}
	return false, nil
}

// forget drops what is known of a room: its encryption state just changed.
func (e *encryptedRooms) forget(roomID id.RoomID) {
	e.mu.Lock()
	delete(e.notEncrypted, roomID)
	e.mu.Unlock()
}
