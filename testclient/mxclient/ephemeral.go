package mxclient

import (
	"context"
	"fmt"
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
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		changed := c.changed
		for _, evt := range c.ephemeral[roomID] {
			if match(evt) {
				c.mu.Unlock()
				return evt, nil
			}
		}
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			return nil, fmt.Errorf("no matching typing notification or receipt in %s after %s", roomID, timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
