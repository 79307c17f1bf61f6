package jsclient

import (
	"context"
	"time"
)

// Typing is a change of someone's typing notification as the client saw it.
type Typing struct {
	RoomID string `json:"roomId"`
	UserID string `json:"userId"`
	Typing bool   `json:"typing"`
}

// Receipt is a read receipt the client was told of.
type Receipt struct {
	RoomID  string `json:"roomId"`
	EventID string `json:"eventId"`
	Type    string `json:"type"` // m.read or m.read.private
	UserID  string `json:"userId"`
}

// Ephemeral is what the client saw of a room's typing notifications and receipts,
// oldest first.
type Ephemeral struct {
	Typing   []Typing  `json:"typing"`
	Receipts []Receipt `json:"receipts"`
}

// SendTyping shows (typing) or ends the user's typing notification in roomID.
func (c *Client) SendTyping(ctx context.Context, roomID string, typing bool) error {
	return c.call(ctx, "sendTyping", map[string]any{"roomId": roomID, "typing": typing, "timeoutMs": 30000}, 30*time.Second, nil)
}

// SendReceipt marks eventID read: publicly (m.read), or privately (m.read.private) as
// Element does with read receipts turned off.
func (c *Client) SendReceipt(ctx context.Context, roomID, eventID string, private bool) error {
	return c.call(ctx, "sendReceipt", map[string]any{"roomId": roomID, "eventId": eventID, "private": private}, 30*time.Second, nil)
}

// WaitTyping waits until the client shows userID typing (or not) in roomID.
func (c *Client) WaitTyping(ctx context.Context, roomID, userID string, typing bool, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	args := map[string]any{"roomId": roomID, "userId": userID, "typing": typing, "timeoutMs": timeout.Milliseconds()}
	return c.call(ctx, "waitTyping", args, timeout, nil)
}

// WaitReceipt waits until userID's public receipt in roomID is on eventID.
func (c *Client) WaitReceipt(ctx context.Context, roomID, userID, eventID string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	args := map[string]any{"roomId": roomID, "userId": userID, "eventId": eventID, "timeoutMs": timeout.Milliseconds()}
	return c.call(ctx, "waitReceipt", args, timeout, nil)
}

// Ephemeral returns the typing changes and receipts the client saw in roomID.
func (c *Client) Ephemeral(ctx context.Context, roomID string) (*Ephemeral, error) {
	var out Ephemeral
	err := c.call(ctx, "ephemeral", map[string]any{"roomId": roomID}, 0, &out)
	return &out, err
}
