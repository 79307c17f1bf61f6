package browser

import (
	"context"
	"time"
)

// LoginOptions say how the page logs in. With CrossSigning (needs Password) the
// page bootstraps the user's cross-signing and, like Element, sends room keys
// only to cross-signed devices.
type LoginOptions struct {
	HomeserverURL string
	User          string // user ID or localpart, with Password
	Password      string
	AccessToken   string // instead of User and Password
	CrossSigning  bool
}

// Login logs the page in, starts Rust crypto (in memory) and syncing, and
// returns after the first sync once the device's keys are on the server.
func (b *Browser) Login(ctx context.Context, o LoginOptions) (userID, deviceID string, err error) {
	args := map[string]any{"baseUrl": o.HomeserverURL, "crossSigning": o.CrossSigning}
	for k, v := range map[string]string{"user": o.User, "password": o.Password, "accessToken": o.AccessToken} {
		if v != "" {
			args[k] = v
		}
	}
	var res struct{ UserID, DeviceID string }
	if err = b.call(ctx, "login", args, 60*time.Second, &res); err == nil {
		b.UserID, b.DeviceID = res.UserID, res.DeviceID
	}
	return res.UserID, res.DeviceID, err
}

// CreateDM creates a direct chat with userID as Element does (encrypted if
// asked) and returns once the page's user is in it.
func (b *Browser) CreateDM(ctx context.Context, userID string, encrypted bool) (roomID string, err error) {
	var res struct{ RoomID string }
	err = b.call(ctx, "createDM", map[string]any{"userId": userID, "encrypted": encrypted}, 30*time.Second, &res)
	return res.RoomID, err
}

// Join waits for the invite to roomID, joins, and returns once joined.
func (b *Browser) Join(ctx context.Context, roomID string) error {
	return b.call(ctx, "join", map[string]any{"roomId": roomID, "timeoutMs": 30000}, 30*time.Second, nil)
}

// WaitJoined waits until userID is joined to roomID in the page's view.
func (b *Browser) WaitJoined(ctx context.Context, roomID, userID string) error {
	return b.call(ctx, "waitJoined", map[string]any{"roomId": roomID, "userId": userID, "timeoutMs": 30000}, 30*time.Second, nil)
}

// CallEvent is an m.call.* event of a room's timeline as the page sees it.
type CallEvent struct {
	Type     string `json:"type"`     // after decryption
	WireType string `json:"wireType"` // m.room.encrypted when it came encrypted
	Sender   string `json:"sender"`
	CallID   string `json:"callId"`
}

// CallEvents lists the m.call.* events in roomID's live timeline.
func (b *Browser) CallEvents(ctx context.Context, roomID string) ([]CallEvent, error) {
	var evs []CallEvent
	return evs, b.call(ctx, "callEvents", map[string]any{"roomId": roomID}, 0, &evs)
}

// Placed is a call the page placed; PlacedAt is taken just before
// placeVoiceCall.
type Placed struct {
	CallID   string
	PlacedAt time.Time
}

// PlaceCall places a voice call in roomID (client.createCall(roomID).placeVoiceCall()).
func (b *Browser) PlaceCall(ctx context.Context, roomID string) (*Placed, error) {
	var res struct {
		CallID   string
		PlacedAt int64
	}
	if err := b.call(ctx, "placeCall", map[string]any{"roomId": roomID}, 30*time.Second, &res); err != nil {
		return nil, err
	}
	return &Placed{CallID: res.CallID, PlacedAt: time.UnixMilli(res.PlacedAt)}, nil
}

// Answered is an incoming call the page answered.
type Answered struct {
	CallID     string
	RangAt     time.Time // the SDK reported the call as incoming
	AnsweredAt time.Time
}

// AnswerNext answers the oldest ringing incoming call, waiting up to timeout
// for one to ring.
func (b *Browser) AnswerNext(ctx context.Context, timeout time.Duration) (*Answered, error) {
	var res struct {
		CallID             string
		RangAt, AnsweredAt int64
	}
	if err := b.call(ctx, "answerNext", map[string]any{"timeoutMs": timeout.Milliseconds()}, timeout, &res); err != nil {
		return nil, err
	}
	return &Answered{CallID: res.CallID, RangAt: time.UnixMilli(res.RangAt), AnsweredAt: time.UnixMilli(res.AnsweredAt)}, nil
}

// CallState is the page's current call as MatrixCall reports it.
type CallState struct {
	State        string // "" without a call; else fledgling, invite_sent, ringing, connecting, connected, ended...
	CallID       string
	Direction    string // inbound, outbound
	HangupReason string
	HangupParty  string // local, remote
	Error        string // the last CallEvent.Error
}

// State returns the current call's state.
func (b *Browser) State(ctx context.Context) (*CallState, error) {
	var st CallState
	return &st, b.call(ctx, "callState", nil, 0, &st)
}

// WaitState waits until the current call reaches state (an error if it ends
// first).
func (b *Browser) WaitState(ctx context.Context, state string, timeout time.Duration) (*CallState, error) {
	var st CallState
	return &st, b.call(ctx, "waitState", map[string]any{"state": state, "timeoutMs": timeout.Milliseconds()}, timeout, &st)
}

// Hangup hangs up the current call as a user would (user_hangup) and waits
// until it has ended; without a live call it does nothing.
func (b *Browser) Hangup(ctx context.Context) (*CallState, error) {
	var st CallState
	return &st, b.call(ctx, "hangup", nil, 10*time.Second, &st)
}

// Tone is a reading of the remote audio's spectrum.
type Tone struct {
	HeardAt time.Time // first of the readings in a row that matched
	PeakHz  float64
	PeakDB  float64 // dBFS
	SNRDB   float64 // peak over the median bin
}

// HearsTone waits until freqHz dominates the remote audio of the current call
// (an AnalyserNode on the remote stream) and returns the reading.
func (b *Browser) HearsTone(ctx context.Context, freqHz float64, timeout time.Duration) (*Tone, error) {
	var raw struct {
		HeardAt int64   `json:"heardAt"`
		PeakHz  float64 `json:"peakHz"`
		PeakDB  float64 `json:"peakDb"`
		SNRDB   float64 `json:"snrDb"`
	}
	if err := b.call(ctx, "waitTone", map[string]any{"freqHz": freqHz, "timeoutMs": timeout.Milliseconds()}, timeout, &raw); err != nil {
		return nil, err
	}
	return &Tone{HeardAt: time.UnixMilli(raw.HeardAt), PeakHz: raw.PeakHz, PeakDB: raw.PeakDB, SNRDB: raw.SNRDB}, nil
}

// Candidate is one end of the selected ICE candidate pair.
type Candidate struct {
	Address       string `json:"address"`
	Port          int    `json:"port"`
	Protocol      string `json:"protocol"`
	CandidateType string `json:"candidateType"`
}

// Pair is the ICE candidate pair the call's media flows on.
type Pair struct {
	Local  Candidate `json:"local"`
	Remote Candidate `json:"remote"`
	State  string    `json:"state"`
}

// Stats are the current call's WebRTC statistics (getStats()).
type Stats struct {
	PacketsReceived int64 `json:"packetsReceived"` // inbound-rtp audio
	BytesReceived   int64 `json:"bytesReceived"`
	PacketsSent     int64 `json:"packetsSent"` // outbound-rtp audio
	SelectedPair    *Pair `json:"selectedPair"`
}

// Stats returns the current call's statistics.
func (b *Browser) Stats(ctx context.Context) (*Stats, error) {
	var s Stats
	return &s, b.call(ctx, "stats", nil, 0, &s)
}

// InboundPackets returns the audio packets the current call has received.
func (b *Browser) InboundPackets(ctx context.Context) (int64, error) {
	s, err := b.Stats(ctx)
	if err != nil {
		return 0, err
	}
	return s.PacketsReceived, nil
}

// SelectedPair returns the call's selected candidate pair (nil before ICE has
// selected one).
func (b *Browser) SelectedPair(ctx context.Context) (*Pair, error) {
	s, err := b.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return s.SelectedPair, nil
}
