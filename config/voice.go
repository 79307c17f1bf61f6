package config

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/contactcenter/contactcenter/voice"
)

// VoiceConfig turns on relayed 1:1 calls: customers call the business identity in
// their DM (legacy Matrix VoIP) and the service rings an agent in the desk room as
// the customer's ghost, forwarding the media between the two (see voice).
type VoiceConfig struct {
	Enabled bool `yaml:"enabled"`
	// RingTimeout is how long an agent's call rings before it passes to the next
	// agent (redirect on no answer); 0: DefaultRingTimeout.
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// LoopbackOnly gathers media candidates on lo alone: for tests and a sandbox on
	// one machine, never for customers on other hosts.
	LoopbackOnly bool `yaml:"loopback_only"`
	// Recordings: where consented call recordings go (see supervision.go).
	Recordings RecordingsConfig `yaml:"recordings"`
	// The relay's media settings: public_ips, udp_port_min/max, ice_servers,
	// invite_lifetime, ice_failed_timeout, connect_timeout, no_prompt.
	voice.Config `yaml:",inline"`
}

// DefaultRingTimeout is how long an agent's phone rings unless the config says.
const DefaultRingTimeout = 20 * time.Second

// Ring is the ring timeout with the default applied.
func (v *VoiceConfig) Ring() time.Duration {
	if v.RingTimeout > 0 {
		return v.RingTimeout
	}
	return DefaultRingTimeout
}

// Media is the relay's configuration.
func (v *VoiceConfig) Media() voice.Config {
	cfg := v.Config
	cfg.Loopback = v.LoopbackOnly
	return cfg
}

// DefaultCallNoAgentMessage is said to a caller when no agent can take the call.
const DefaultCallNoAgentMessage = "Nobody can take your call right now. Write to us here and an agent will answer as soon as one is free."

// CallNoAgent is what the tenant tells a caller nobody can answer.
func (t *Tenant) CallNoAgent() string {
	if t.CallNoAgentMessage != "" {
		return t.CallNoAgentMessage
	}
	return DefaultCallNoAgentMessage
}

func (v *VoiceConfig) validate() []error {
	if !v.Enabled {
		return nil
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if v.RingTimeout < 0 {
		add("voice.ring_timeout must not be negative")
	}
	if (v.UDPPortMin == 0) != (v.UDPPortMax == 0) || v.UDPPortMin > v.UDPPortMax {
		add("voice.udp_port_min and udp_port_max go together, min <= max")
	}
	for _, ip := range v.PublicIPs {
		if net.ParseIP(ip) == nil {
			add("voice.public_ips: %q is not an IP address", ip)
		}
	}
	for i, s := range v.ICEServers {
		if len(s.URLs) == 0 {
			add("voice.ice_servers[%d] needs urls", i)
		}
	}
	if v.InviteLifetime != 0 && v.InviteLifetime < time.Duration(voice.DefaultLifetime)*time.Millisecond {
		add("voice.invite_lifetime must be at least %s: clients drop shorter invites", time.Duration(voice.DefaultLifetime)*time.Millisecond)
	}
	if v.InviteLifetime != 0 && v.RingTimeout >= v.InviteLifetime {
		errs = append(errs, errors.New("voice.ring_timeout must be shorter than voice.invite_lifetime, or no second agent is ever rung"))
	}
	return errs
}
