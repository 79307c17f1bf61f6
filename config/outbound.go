package config

import (
	"errors"
	"fmt"

	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

// AdminAPIConfig holds the provider-level admin API keys: they may reveal the Matrix
// ID behind a pseudonym (audited), and nothing else.
type AdminAPIConfig struct {
	ProviderKeys []ProviderKey `yaml:"provider_keys"`
}

// ProviderKey is a provider-level key by its hash; Label names who holds it in the
// reveal audit and in what the tenant's supervisors are told.
type ProviderKey struct {
	Label string `yaml:"label"`
	Hash  string `yaml:"hash"`
}

func (a *AdminAPIConfig) validate() []error {
	var errs []error
	for i, k := range a.ProviderKeys {
		if k.Label == "" {
			errs = append(errs, fmt.Errorf("admin_api.provider_keys[%d].label is required: the reveal audit names it", i))
		}
		if _, err := contextapi.ParseKeyHash(k.Hash); err != nil {
			errs = append(errs, fmt.Errorf("admin_api.provider_keys[%d].hash: %w (write the hash of the key, never the key)", i, err))
		}
	}
	return errs
}

// ContactPolicy is the tenant's compiled outbound contact policy (the default one
// when the tenant configures none), with the default zone filled in: the policy's,
// else the business hours', else none (UTC).
func (t *Tenant) ContactPolicy() (*outbound.Policy, error) {
	cfg := outbound.DefaultConfig()
	if t.Outbound != nil {
		cfg = *t.Outbound
	}
	if cfg.TimeZone == "" {
		cfg.TimeZone = t.Hours.TimeZone
	}
	return cfg.Compile()
}

// ContactTriggers are the tenant's compiled context triggers.
func (t *Tenant) ContactTriggers() ([]*outbound.Rule, error) {
	var out []*outbound.Rule
	var errs []error
	for i, c := range t.Triggers {
		r, err := outbound.CompileRule(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("triggers[%d]: %w", i, err))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// validateOutbound checks the tenant's admin API keys, contact policy and triggers.
func (t *Tenant) validateOutbound(where string) []error {
	var errs []error
	for j, k := range t.AdminAPIKeys {
		if _, err := contextapi.ParseKeyHash(k); err != nil {
			errs = append(errs, fmt.Errorf("%s.admin_api_keys[%d]: %w (write the hash of the key, never the key)", where, j, err))
		}
	}
	if _, err := t.ContactPolicy(); err != nil {
		errs = append(errs, fmt.Errorf("%s.outbound: %w", where, err))
	}
	names := map[string]bool{}
	for i, c := range t.Triggers {
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("%s.triggers[%d]: name %q is used twice", where, i, c.Name))
		}
		names[c.Name] = true
	}
	if _, err := t.ContactTriggers(); err != nil {
		errs = append(errs, fmt.Errorf("%s.%w", where, err))
	}
	return errs
}

// AdminKeys are the admin API keys the config lists, by hash, as the database keeps
// them (see database.AdminKeyQuery.SyncConfig). A hash listed twice keeps its first
// owner; Validate refuses such a config.
func (c *Config) AdminKeys() map[string]*database.AdminKey {
	out := map[string]*database.AdminKey{}
	for _, k := range c.AdminAPI.ProviderKeys {
		if _, ok := out[k.Hash]; !ok {
			out[k.Hash] = &database.AdminKey{Scope: database.ScopeProvider, Label: k.Label}
		}
	}
	for _, t := range c.Tenants {
		for _, h := range t.AdminAPIKeys {
			if _, ok := out[h]; !ok {
				out[h] = &database.AdminKey{Scope: database.ScopeTenant, TenantID: t.ID, Label: t.ID}
			}
		}
	}
	return out
}

// validateAdminKeys refuses a key hash given to two owners.
func (c *Config) validateAdminKeys() []error {
	var errs []error
	seen := map[string]string{}
	note := func(hash, owner string) {
		if other, ok := seen[hash]; ok && other != owner {
			errs = append(errs, fmt.Errorf("admin API key %s is given to both %s and %s", hash, other, owner))
		}
		seen[hash] = owner
	}
	for _, k := range c.AdminAPI.ProviderKeys {
		note(k.Hash, "the provider")
	}
	for _, t := range c.Tenants {
		for _, h := range t.AdminAPIKeys {
			note(h, "tenant "+t.ID)
		}
	}
	return errs
}
