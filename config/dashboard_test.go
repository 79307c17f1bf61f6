package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/config"
)

func TestDashboardIsOffByDefault(t *testing.T) {
	cfg := config.Example()
	if cfg.Dashboard.Enabled() || cfg.Dashboard.Session() != config.DefaultDashboardSession || cfg.Dashboard.Link() != config.DefaultDashboardLink {
		t.Fatalf("example dashboard: %+v", cfg.Dashboard)
	}
}

// The example's commented dashboard lines, uncommented, are a valid config.
func TestDashboardExampleLinesLoad(t *testing.T) {
	path := writeExample(t)
	data, _ := os.ReadFile(path)
	text := strings.ReplaceAll(string(data), "#dashboard:", "dashboard:")
	for _, key := range []string{"public_url", "session_lifetime", "link_lifetime", "federation_insecure_tls", "federation_private_addresses"} {
		text = strings.Replace(text, "#    "+key+":", "    "+key+":", 1)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Dashboard
	if !d.Enabled() || d.PublicURL != "https://cc.example.com/_contactcenter/dashboard/" || d.Session() != time.Hour || d.Link() != 10*time.Minute {
		t.Fatalf("loaded %+v", d)
	}
	if err := cfg.Validate(false); err != nil {
		t.Fatal(err)
	}
}

func TestDashboardValidation(t *testing.T) {
	for _, c := range []struct {
		d    config.DashboardConfig
		want string
	}{
		{config.DashboardConfig{PublicURL: "ftp://x/"}, "public_url"},
		{config.DashboardConfig{PublicURL: "https://x/dash"}, "slash"},
		{config.DashboardConfig{PublicURL: "https://x/?a=b"}, "query"},
		{config.DashboardConfig{SessionLifetime: -time.Second}, "negative"},
		{config.DashboardConfig{SessionLifetime: 10 * time.Second}, "too short"},
	} {
		cfg := config.Example()
		cfg.Dashboard = c.d
		if err := cfg.Validate(false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %q", c.d, err, c.want)
		}
	}
}
