package config

import (
	"strings"
	"testing"
	"time"
)

func TestNativeSettings(t *testing.T) {
	cfg := Example()
	if n := cfg.Native; !n.Typing || !n.Receipts || n.Source() != EphemeralAuto || n.PollInterval() != time.Second {
		t.Fatalf("the example's native settings: %+v", n)
	}
	if cfg.Tenants[0].PresenceAvailability {
		t.Fatal("presence-driven availability must be off unless a tenant asks")
	}
	if reg := cfg.Registration(); reg.EphemeralEvents {
		t.Fatal("auto must not ask the homeserver to push ephemeral events")
	}
	cfg.Native.Ephemeral = EphemeralPush
	if reg := cfg.Registration(); !reg.EphemeralEvents || !reg.SoruEphemeralEvents {
		t.Fatal("push asks for receive_ephemeral")
	}
	cfg.Native.Ephemeral, cfg.Native.DeskPollInterval = "sometimes", 10*time.Millisecond
	err := cfg.Validate(false)
	if err == nil || !strings.Contains(err.Error(), "native.ephemeral") || !strings.Contains(err.Error(), "native.desk_poll_interval") {
		t.Fatalf("bad native settings: %v", err)
	}
}
