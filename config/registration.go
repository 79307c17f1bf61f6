package config

import (
	"fmt"
	"regexp"
	"strings"

	"maunium.net/go/mautrix/appservice"

	"github.com/contactcenter/contactcenter/internal/secretfile"
)

// Registration derives the appservice registration from the config, so the config
// stays the one source of truth. Every namespace is exclusive and anchored to the
// homeserver's domain: an unanchored regex would also claim users of other servers.
func (c *Config) Registration() *appservice.Registration {
	reg := &appservice.Registration{
		ID:              c.Appservice.ID,
		URL:             c.Appservice.Address,
		AppToken:        c.Appservice.ASToken,
		ServerToken:     c.Appservice.HSToken,
		SenderLocalpart: c.Appservice.SenderLocalpart,
		RateLimited:     new(bool),
	}
	domain := regexp.QuoteMeta(c.Homeserver.Domain)
	reg.Namespaces.UserIDs.Register(regexp.MustCompile(fmt.Sprintf("^@%s:%s$", regexp.QuoteMeta(c.Appservice.BotUsername), domain)), true)
	for i := range c.Tenants {
		reg.Namespaces.UserIDs.Register(regexp.MustCompile(fmt.Sprintf("^@%s:%s$", regexp.QuoteMeta(c.Tenants[i].BusinessLocalpart), domain)), true)
	}
	prefix, suffix, _ := strings.Cut(c.Appservice.GhostUsernameTemplate, "{{.}}")
	reg.Namespaces.UserIDs.Register(regexp.MustCompile(fmt.Sprintf("^@%s.+%s:%s$", regexp.QuoteMeta(prefix), regexp.QuoteMeta(suffix), domain)), true)
	if c.Encryption.Enabled && c.Encryption.Mode == EncryptionAppservice {
		reg.EphemeralEvents = true
		reg.SoruEphemeralEvents = true
		reg.MSC3202 = true
		reg.MSC4190 = c.Encryption.MSC4190
	}
	if c.Native.Source() == EphemeralPush {
		reg.EphemeralEvents, reg.SoruEphemeralEvents = true, true
	}
	return reg
}

// ExampleRegistrationToken stands in for both tokens in the repository's example
// registration, which must never be usable as it is.
const ExampleRegistrationToken = "placeholder-run-contactcenter-g"

// SaveRegistration writes the registration for the homeserver. It holds both tokens,
// so it is written for its owner alone, replacing whatever file was there.
func (c *Config) SaveRegistration(path string) error {
	data, err := c.Registration().YAML()
	if err != nil {
		return err
	}
	return secretfile.Write(path, []byte(data))
}
