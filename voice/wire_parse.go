package voice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotCall is returned by Parse for an event type that is not legacy VoIP.
var ErrNotCall = errors.New("not an m.call event")

// unstableStreamMetadata is the msc3077 key some clients still send alone.
const unstableStreamMetadata = "org.matrix.msc3077.sdp_stream_metadata"

// maxSDP bounds an SDP read from a room event: a real offer is a few KiB.
const maxSDP = 64 << 10

// Parse reads the content of an m.call.* event. It is tolerant where clients
// differ (version as number or string, the unstable stream metadata key, missing
// party_id from version 0 clients) and strict where the relay would misbehave
// (no call_id, an offer without SDP, a reason outside the spec becomes
// unknown_error).
func Parse(eventType string, content []byte) (Message, error) {
	var m Message
	switch eventType {
	case TypeInvite:
		m = &Invite{}
	case TypeAnswer:
		m = &Answer{}
	case TypeSelectAnswer:
		m = &SelectAnswer{}
	case TypeCandidates:
		m = &Candidates{}
	case TypeNegotiate:
		m = &Negotiate{}
	case TypeReject:
		m = &Reject{}
	case TypeHangup:
		m = &Hangup{}
	default:
		return nil, ErrNotCall
	}
	if err := json.Unmarshal(content, m); err != nil {
		return nil, fmt.Errorf("%s: %w", eventType, err)
	}
	c := m.common()
	if c.CallID == "" {
		return nil, fmt.Errorf("%s without call_id", eventType)
	}
	if c.Version == "" {
		c.Version = "0"
	}
	switch v := m.(type) {
	case *Invite:
		if err := checkSDP(v.Offer, "offer"); err != nil {
			return nil, fmt.Errorf("%s: %w", eventType, err)
		}
		if v.Lifetime <= 0 {
			v.Lifetime = DefaultLifetime
		}
		v.StreamMetadata = streamMetadata(content, v.StreamMetadata)
	case *Answer:
		if err := checkSDP(v.Answer, "answer"); err != nil {
			return nil, fmt.Errorf("%s: %w", eventType, err)
		}
		v.StreamMetadata = streamMetadata(content, v.StreamMetadata)
	case *Negotiate:
		if v.Description.Type != "offer" && v.Description.Type != "answer" {
			return nil, fmt.Errorf("%s: description type %q", eventType, v.Description.Type)
		}
		if err := checkSDP(v.Description, v.Description.Type); err != nil {
			return nil, fmt.Errorf("%s: %w", eventType, err)
		}
		v.StreamMetadata = streamMetadata(content, v.StreamMetadata)
	case *Hangup:
		if v.Reason != "" && !v.Reason.Valid() {
			v.Reason = ReasonUnknownError
		}
		if v.Reason == "" {
			v.Reason = ReasonUserHangup
		}
	}
	return m, nil
}

func checkSDP(d SessionDescription, want string) error {
	if d.Type != want {
		return fmt.Errorf("%s has type %q", want, d.Type)
	}
	if d.SDP == "" {
		return fmt.Errorf("%s without sdp", want)
	}
	if len(d.SDP) > maxSDP {
		return fmt.Errorf("%s sdp of %d bytes", want, len(d.SDP))
	}
	return nil
}

// streamMetadata returns the stable metadata, or the msc3077 one when the stable
// key is absent.
func streamMetadata(content []byte, stable map[string]StreamMetadata) map[string]StreamMetadata {
	if stable != nil || !bytes.Contains(content, []byte(unstableStreamMetadata)) {
		return stable
	}
	var u struct {
		M map[string]StreamMetadata `json:"org.matrix.msc3077.sdp_stream_metadata"`
	}
	if json.Unmarshal(content, &u) != nil {
		return nil
	}
	return u.M
}

// MatrixRTC event types that mean a client is trying to call with Element Call
// (Element X) rather than legacy VoIP.
var rtcRingTypes = map[string]bool{
	"m.rtc.notification":                  true,
	"org.matrix.msc4075.rtc.notification": true,
	"m.call.notify":                       true,
	"org.matrix.msc4075.call.notify":      true,
}

var rtcMemberTypes = map[string]bool{
	"org.matrix.msc3401.call.member": true,
	"m.call.member":                  true,
	"m.rtc.member":                   true,
}

// IsMatrixRTCAttempt tells whether an event is a MatrixRTC call attempt the relay
// cannot take: a ring notification, or a call membership being joined (an empty
// membership, or one holding only a leave reason, is a member leaving).
func IsMatrixRTCAttempt(eventType string, content []byte) bool {
	if rtcRingTypes[eventType] {
		return true
	}
	if !rtcMemberTypes[eventType] {
		return false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(content, &fields) != nil {
		return false
	}
	delete(fields, "leave_reason")
	return len(fields) > 0
}
