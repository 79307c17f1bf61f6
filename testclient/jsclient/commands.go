package jsclient

import (
	"context"
	"time"
)

// Event is a timeline event as the client sees it, after decryption: for an
// encrypted event Type and Content are the decrypted ones and Encrypted is
// true.
type Event struct {
	EventID           string         `json:"eventId"`
	Sender            string         `json:"sender"`
	Type              string         `json:"type"`
	StateKey          *string        `json:"stateKey,omitempty"` // set for state events
	Content           map[string]any `json:"content"`
	Encrypted         bool           `json:"encrypted"`
	DecryptionFailure bool           `json:"decryptionFailure,omitempty"` // still undecryptable
	Timestamp         int64          `json:"ts"`                          // origin_server_ts, ms
}

// Body returns content.body, or "".
func (e *Event) Body() string {
	s, _ := e.Content["body"].(string)
	return s
}

// MessageFilter selects the event WaitForMessage returns. Empty fields match
// anything.
type MessageFilter struct {
	Sender       string // exact sender user ID
	Contains     string // substring of content.body
	Type         string // exact (decrypted) event type; empty: any non-state event
	AfterEventID string // only events after this one in the live timeline (if it is there)
}

// RoomState is the client's view of a room.
type RoomState struct {
	Encrypted bool     `json:"encrypted"`
	Members   []Member `json:"members"`
}

// Member is one room member.
type Member struct {
	UserID      string `json:"userId"`
	Membership  string `json:"membership"` // join, invite, leave, ban, knock
	DisplayName string `json:"displayName"`
}

// Member returns the member with userID, or nil.
func (s *RoomState) Member(userID string) *Member {
	for i := range s.Members {
		if s.Members[i].UserID == userID {
			return &s.Members[i]
		}
	}
	return nil
}

// Login logs in with a password, sets up Rust crypto (in memory), starts
// syncing, and returns after the first sync once the device's keys are on
// the server. Like Element today it bootstraps the user's cross-signing and
// excludes insecure devices (MSC4153): keys go only to devices their owner
// cross-signed, and events from any other device do not decrypt.
func (c *Client) Login(ctx context.Context, baseURL, user, password string) (userID, deviceID string, err error) {
	var res struct{ UserID, DeviceID string }
	err = c.call(ctx, "login", map[string]any{"baseUrl": baseURL, "user": user, "password": password}, 60*time.Second, &res)
	if err == nil {
		c.UserID, c.DeviceID = res.UserID, res.DeviceID
	}
	return res.UserID, res.DeviceID, err
}

// CreateDM creates a direct chat with userID the way Element does
// (is_direct, trusted_private_chat, invite, m.direct account data; with
// encrypted, an m.room.encryption initial state event) and returns once the
// creator is in the room.
func (c *Client) CreateDM(ctx context.Context, userID string, encrypted bool) (roomID string, err error) {
	var res struct{ RoomID string }
	err = c.call(ctx, "createDM", map[string]any{"userId": userID, "encrypted": encrypted}, 30*time.Second, &res)
	return res.RoomID, err
}

// Join joins roomID (by ID; viaServers for rooms on other servers that did
// not invite us) and returns once the client sees itself joined.
func (c *Client) Join(ctx context.Context, roomID string, viaServers ...string) error {
	args := map[string]any{"roomId": roomID}
	if len(viaServers) > 0 {
		args["viaServers"] = viaServers
	}
	return c.call(ctx, "join", args, 30*time.Second, nil)
}

// DefaultWaitTimeout is used by WaitJoined and WaitForMessage for a zero
// timeout.
const DefaultWaitTimeout = 30 * time.Second

// WaitJoined waits until userID's membership in roomID is join.
func (c *Client) WaitJoined(ctx context.Context, roomID, userID string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	return c.call(ctx, "waitJoined", map[string]any{"roomId": roomID, "userId": userID, "timeoutMs": timeout.Milliseconds()}, timeout, nil)
}

// WaitForMessage returns the first live-timeline event of roomID, already
// there or arriving later, that matches f once decrypted. Events still being
// decrypted, or not decryptable yet, are waited for.
func (c *Client) WaitForMessage(ctx context.Context, roomID string, f MessageFilter, timeout time.Duration) (*Event, error) {
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	args := map[string]any{"roomId": roomID, "timeoutMs": timeout.Milliseconds()}
	for k, v := range map[string]string{"sender": f.Sender, "contains": f.Contains, "type": f.Type, "afterEventId": f.AfterEventID} {
		if v != "" {
			args[k] = v
		}
	}
	var ev Event
	if err := c.call(ctx, "waitForMessage", args, timeout, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// SendText sends an m.text message (encrypted in encrypted rooms).
func (c *Client) SendText(ctx context.Context, roomID, body string) (eventID string, err error) {
	var res struct{ EventID string }
	err = c.call(ctx, "sendText", map[string]any{"roomId": roomID, "body": body}, 30*time.Second, &res)
	return res.EventID, err
}

// SendEvent sends a message event of any type (m.reaction, polls, ...),
// encrypted in encrypted rooms like any client would.
func (c *Client) SendEvent(ctx context.Context, roomID, evtType string, content any) (eventID string, err error) {
	var res struct{ EventID string }
	err = c.call(ctx, "sendEvent", map[string]any{"roomId": roomID, "type": evtType, "content": content}, 30*time.Second, &res)
	return res.EventID, err
}

// Messages returns the room's live timeline, decrypted, oldest first.
func (c *Client) Messages(ctx context.Context, roomID string) ([]Event, error) {
	var evs []Event
	err := c.call(ctx, "messages", map[string]any{"roomId": roomID}, 0, &evs)
	return evs, err
}

// RoomState returns whether the room is encrypted and its members.
func (c *Client) RoomState(ctx context.Context, roomID string) (*RoomState, error) {
	var st RoomState
	if err := c.call(ctx, "roomState", map[string]any{"roomId": roomID}, 0, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Trust is how the client sees another user's cryptographic identity.
type Trust struct {
	// Known: the client has pinned an identity for the user; NeedsUserApproval: the
	// identity changed since (the client warns).
	Known               bool          `json:"known"`
	NeedsUserApproval   bool          `json:"needsUserApproval"`
	HasCrossSigningKeys bool          `json:"hasCrossSigningKeys"`
	Devices             []DeviceTrust `json:"devices"`
}

// DeviceTrust is one of the user's devices.
type DeviceTrust struct {
	DeviceID             string `json:"deviceId"`
	SignedByOwner        bool   `json:"signedByOwner"`
	CrossSigningVerified bool   `json:"crossSigningVerified"`
}

// Device returns the device with deviceID, or nil.
func (t *Trust) Device(deviceID string) *DeviceTrust {
	for i := range t.Devices {
		if t.Devices[i].DeviceID == deviceID {
			return &t.Devices[i]
		}
	}
	return nil
}

// Trust asks the client how it sees userID's identity and devices (fetching
// their keys afresh).
func (c *Client) Trust(ctx context.Context, userID string) (*Trust, error) {
	var res Trust
	err := c.call(ctx, "trust", map[string]any{"userId": userID}, 30*time.Second, &res)
	return &res, err
}
