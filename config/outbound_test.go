package config_test

import (
	"strings"
	"testing"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

func TestExampleOutbound(t *testing.T) {
	cfg := config.Example()
	p, err := cfg.Tenants[0].ContactPolicy()
	if err != nil || p.TimeZone() != "Europe/Lisbon" || p.Period() == 0 {
		t.Fatalf("policy %+v %v", p, err)
	}
	// A tenant with no outbound section gets the default policy in its hours' zone.
	tenant := cfg.Tenants[0]
	tenant.Outbound, tenant.Hours.TimeZone = nil, "Europe/Berlin"
	if p, err = tenant.ContactPolicy(); err != nil || p.TimeZone() != "Europe/Berlin" {
		t.Errorf("default policy: %v %v", p, err)
	}
}

func TestOutboundConfigRefused(t *testing.T) {
	acme, globex := contextapi.KeyHashConfig("cc_a"), contextapi.KeyHashConfig("cc_b")
	cases := map[string]struct {
		change func(c *config.Config)
		want   string
	}{
		"admin key not a hash": {func(c *config.Config) { c.Tenants[0].AdminAPIKeys = []string{"cc_plainkey"} }, "admin_api_keys[0]"},
		"provider key unlabelled": {func(c *config.Config) {
			c.AdminAPI.ProviderKeys = []config.ProviderKey{{Hash: acme}}
		}, "label is required"},
		"key of two owners": {func(c *config.Config) {
			c.Tenants[0].AdminAPIKeys = []string{acme}
			c.AdminAPI.ProviderKeys = []config.ProviderKey{{Label: "abuse", Hash: acme}}
		}, "given to both"},
		"bad window": {func(c *config.Config) {
			c.Tenants[0].Outbound = &outbound.Config{Window: map[string]string{"mon": "late"}}
		}, "outbound"},
		"bad trigger": {func(c *config.Config) {
			c.Tenants[0].Triggers = []outbound.RuleConfig{{Name: "t", When: "mortgage >=", Reason: "r", Agent: "@a:b"}}
		}, "triggers[0]"},
		"trigger twice": {func(c *config.Config) {
			r := outbound.RuleConfig{Name: "t", When: "mortgage >= 2", Reason: "r", Agent: "@a:b"}
			c.Tenants[0].Triggers = []outbound.RuleConfig{r, r}
		}, "used twice"},
	}
	for name, c := range cases {
		cfg := config.Example()
		c.change(cfg)
		if err := cfg.Validate(false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	cfg := config.Example()
	cfg.Tenants[0].AdminAPIKeys = []string{acme}
	cfg.AdminAPI.ProviderKeys = []config.ProviderKey{{Label: "abuse desk", Hash: globex}}
	if err := cfg.Validate(false); err != nil {
		t.Fatal(err)
	}
	keys := cfg.AdminKeys()
	if k := keys[acme]; k == nil || k.Scope != database.ScopeTenant || k.TenantID != "acme" {
		t.Errorf("tenant key %+v", k)
	}
	if k := keys[globex]; k == nil || k.Scope != database.ScopeProvider || k.Label != "abuse desk" || k.TenantID != "" {
		t.Errorf("provider key %+v", k)
	}
}
