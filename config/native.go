package config

import (
	"fmt"
	"time"
)

// What makes a conversation look like any Matrix chat on both sides: typing
// notifications and read receipts relayed between the customer room and the desk room,
// and (per tenant) agents' Matrix presence moving their availability.

// NativeConfig is the relay of typing notifications and read receipts.
type NativeConfig struct {
	// Typing relays typing notifications both ways (never into side rooms).
	Typing bool `yaml:"typing"`
	// Receipts relays public read receipts both ways (m.read.private never).
	Receipts bool `yaml:"receipts"`
	// Ephemeral says where typing notifications, receipts and presence come from:
	// EphemeralAuto, EphemeralPush or EphemeralSync.
	Ephemeral string `yaml:"ephemeral"`
	// DeskPollInterval is how often, without pushed ephemeral events, the desk rooms
	// of assigned conversations are read for agents' typing and receipts
	// (0: DefaultDeskPollInterval).
	DeskPollInterval time.Duration `yaml:"desk_poll_interval"`
}

// Where ephemeral events come from (NativeConfig.Ephemeral).
const (
	// EphemeralAuto reads them with /sync until the homeserver pushes one in a
	// transaction, and from then on takes the pushed ones only.
	EphemeralAuto = "auto"
	// EphemeralPush takes only pushed ones (Synapse with receive_ephemeral, which the
	// registration then carries) and never reads them with /sync.
	EphemeralPush = "push"
	// EphemeralSync always reads them with /sync and ignores pushed ones.
	EphemeralSync = "sync"
)

// DefaultDeskPollInterval is the pause between two reads of the assigned
// conversations' desk rooms unless the config says.
const DefaultDeskPollInterval = time.Second

// PollInterval is the desk rooms' poll interval with the default applied.
func (n NativeConfig) PollInterval() time.Duration {
	if n.DeskPollInterval > 0 {
		return n.DeskPollInterval
	}
	return DefaultDeskPollInterval
}

// Source is where ephemeral events come from, EphemeralAuto when unset.
func (n NativeConfig) Source() string {
	if n.Ephemeral == "" {
		return EphemeralAuto
	}
	return n.Ephemeral
}

func (n NativeConfig) validate() []error {
	var errs []error
	switch n.Source() {
	case EphemeralAuto, EphemeralPush, EphemeralSync:
	default:
		errs = append(errs, fmt.Errorf("native.ephemeral must be auto, push or sync, got %q", n.Ephemeral))
	}
	if n.DeskPollInterval < 0 || (n.DeskPollInterval > 0 && n.DeskPollInterval < 100*time.Millisecond) {
		errs = append(errs, fmt.Errorf("native.desk_poll_interval must be at least 100ms (or 0 for the default), got %s", n.DeskPollInterval))
	}
	return errs
}
