package voice

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Event types of legacy 1:1 VoIP (spec "Voice over IP", MSC2746).
const (
	TypeInvite       = "m.call.invite"
	TypeAnswer       = "m.call.answer"
	TypeSelectAnswer = "m.call.select_answer"
	TypeCandidates   = "m.call.candidates"
	TypeNegotiate    = "m.call.negotiate"
	TypeReject       = "m.call.reject"
	TypeHangup       = "m.call.hangup"
)

// Version is the protocol version this package sends. matrix-js-sdk and the spec
// expect the string "1"; a number is accepted on read.
const Version = "1"

// DefaultLifetime is the invite lifetime sent when none is given: matrix-js-sdk
// drops an invite older than lifetime-3s, and sends 60 s itself.
const DefaultLifetime = 60000

// HangupReason is a spec reason of m.call.hangup. Only these are sent.
type HangupReason string

// The spec hangup reasons.
const (
	ReasonICETimeout      HangupReason = "ice_timeout"
	ReasonICEFailed       HangupReason = "ice_failed"
	ReasonInviteTimeout   HangupReason = "invite_timeout"
	ReasonUserHangup      HangupReason = "user_hangup"
	ReasonUserMediaFailed HangupReason = "user_media_failed"
	ReasonUserBusy        HangupReason = "user_busy"
	ReasonUnknownError    HangupReason = "unknown_error"
)

// Valid tells whether r is one of the spec reasons.
func (r HangupReason) Valid() bool {
	switch r {
	case ReasonICETimeout, ReasonICEFailed, ReasonInviteTimeout, ReasonUserHangup,
		ReasonUserMediaFailed, ReasonUserBusy, ReasonUnknownError:
		return true
	}
	return false
}

// CallVersion is the `version` field: sent as a string, read from a string or a
// number (version 0 clients send the number 0; some send 1 as a number).
type CallVersion string

// MarshalJSON writes the version as a JSON string, "1" when unset.
func (v CallVersion) MarshalJSON() ([]byte, error) {
	if v == "" {
		v = Version
	}
	return json.Marshal(string(v))
}

// UnmarshalJSON accepts a string or a non-negative integer.
func (v *CallVersion) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = CallVersion(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("version is neither a string nor a number")
	}
	i, err := strconv.ParseUint(n.String(), 10, 32)
	if err != nil {
		return fmt.Errorf("version %s is not a non-negative integer", n)
	}
	*v = CallVersion(strconv.FormatUint(i, 10))
	return nil
}

// Common holds the fields of every call event.
type Common struct {
	CallID  string      `json:"call_id"`
	PartyID string      `json:"party_id,omitempty"`
	Version CallVersion `json:"version"`
}

func (c *Common) common() *Common { return c }

// Message is the content of one m.call.* event.
type Message interface {
	EventType() string
	common() *Common
}

// SessionDescription is an SDP offer or answer.
type SessionDescription struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// StreamMetadata describes one sent stream (by msid stream ID). matrix-js-sdk
// needs every sent stream listed, and never plays a feed first announced muted.
type StreamMetadata struct {
	Purpose    string `json:"purpose"`
	AudioMuted bool   `json:"audio_muted"`
	VideoMuted bool   `json:"video_muted"`
}

// PurposeUserMedia is the purpose of a camera/microphone stream.
const PurposeUserMedia = "m.usermedia"

// Invite is m.call.invite.
type Invite struct {
	Common
	Offer          SessionDescription        `json:"offer"`
	Lifetime       int64                     `json:"lifetime"`
	Invitee        string                    `json:"invitee,omitempty"`
	StreamMetadata map[string]StreamMetadata `json:"sdp_stream_metadata,omitempty"`
}

// Answer is m.call.answer.
type Answer struct {
	Common
	Answer         SessionDescription        `json:"answer"`
	StreamMetadata map[string]StreamMetadata `json:"sdp_stream_metadata,omitempty"`
}

// SelectAnswer is m.call.select_answer, sent by the caller once it takes an answer.
type SelectAnswer struct {
	Common
	SelectedPartyID string `json:"selected_party_id"`
}

// Candidate is one ICE candidate; an empty Candidate marks the end of candidates.
type Candidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

// Candidates is m.call.candidates.
type Candidates struct {
	Common
	Candidates []Candidate `json:"candidates"`
}

// Negotiate is m.call.negotiate: a new offer or answer during the call.
type Negotiate struct {
	Common
	Description    SessionDescription        `json:"description"`
	Lifetime       int64                     `json:"lifetime,omitempty"`
	StreamMetadata map[string]StreamMetadata `json:"sdp_stream_metadata,omitempty"`
}

// Reject is m.call.reject: the callee declines the invite.
type Reject struct {
	Common
}

// Hangup is m.call.hangup.
type Hangup struct {
	Common
	Reason HangupReason `json:"reason,omitempty"`
}

// EventType implementations.
func (*Invite) EventType() string       { return TypeInvite }
func (*Answer) EventType() string       { return TypeAnswer }
func (*SelectAnswer) EventType() string { return TypeSelectAnswer }
func (*Candidates) EventType() string   { return TypeCandidates }
func (*Negotiate) EventType() string    { return TypeNegotiate }
func (*Reject) EventType() string       { return TypeReject }
func (*Hangup) EventType() string       { return TypeHangup }

// CallID is the call a message belongs to.
func CallID(m Message) string { return m.common().CallID }

// PartyID is the party a message comes from.
func PartyID(m Message) string { return m.common().PartyID }

// Encode returns the event type and raw content to send for m, with version "1".
// Raw content, because mautrix-go's call structs send the version as a number
// and lack invitee and sdp_stream_metadata.
func Encode(m Message) (string, json.RawMessage, error) {
	c := m.common()
	if c.CallID == "" {
		return "", nil, fmt.Errorf("%s without call_id", m.EventType())
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", nil, err
	}
	return m.EventType(), b, nil
}
