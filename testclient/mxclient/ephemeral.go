package mxclient

import (
	"context"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// recordEphemeral keeps a room's typing notifications and read receipts.
func (c *Client) recordEphemeral(_ context.Context, evt *event.Event) {
	if evt.Mautrix.EventSource&event.SourceEphemeral == 0 || evt.RoomID == "" {
		return
	}
	c.mu.Lock()
	c.ephemeral[evt.RoomID] = append(c.ephemeral[evt.RoomID], evt)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// Ephemeral returns the typing notifications and receipts seen in a room so far.
func (c *Client) Ephemeral(roomID id.RoomID) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*event.Event(nil), c.ephemeral[roomID]...)
}

// WaitEphemeral waits until a typing notification or receipt of the room matches.
func (c *Client) WaitEphemeral(ctx context.Context, roomID id.RoomID, timeout time.Duration, match func(*event.Event) bool) (*event.Event, error) {
	return c.waitIn(ctx, c.ephemeral, "typing notification or receipt", roomID, timeout, match)
}
