// Package voice relays Matrix 1:1 calls (legacy VoIP, m.call.* version "1") between
// a customer and an agent with pion/webrtc, without transcoding: the service
// terminates one PeerConnection per side (a leg) and forwards Opus audio and VP8
// video RTP from one leg to the other, rewriting SSRC, sequence numbers and
// timestamps so each outgoing stream stays continuous when its source changes
// (hold prompt → agent, agent A → agent B).
//
// The package knows the wire format, pion and call state, nothing of tenants,
// conversations, rooms or routing: the caller feeds each leg the m.call.* events
// of its room (Leg.Handle) and sends the events a leg produces (LegOptions.Send),
// and decides which agent to ring and when to give up (see Call and Event).
//
//   - wire*.go: typed m.call.* contents, a tolerant parser, candidate batching,
//     detection of MatrixRTC call attempts.
//   - config.go: ICE and codec settings (loopback-only for tests, NAT 1:1, port
//     range and STUN/TURN for production).
//   - engine.go, call*.go, leg*.go: calls, legs and their lifecycle.
//   - relay*.go, prompt.go: the media path and the hold prompt.
//   - stats.go: per call and per leg figures.
package voice
