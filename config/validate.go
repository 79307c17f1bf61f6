package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/routing"
)

var (
	localpartRe = regexp.MustCompile(`^[a-z0-9._=/+-]+$`)
	tenantIDRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// Validate checks everything that can be checked without the network. With
// requireSecrets, "generate" placeholders are errors (the service cannot run with them).
func (c *Config) Validate(requireSecrets bool) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u, err := url.Parse(c.Homeserver.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		add("homeserver.address must be an http(s) URL, got %q", c.Homeserver.Address)
	}
	if c.Homeserver.Domain == "" {
		add("homeserver.domain is required")
	}
	if c.Appservice.Listen == "" {
		add("appservice.listen is required")
	}
	for _, r := range []RateConfig{c.Limits.CustomerEvents, c.Limits.ServerEvents, c.Limits.RoomsOpened, c.Limits.CodeAttempts, c.Limits.APIRequests} {
		if r.Every < 0 || r.Burst < 0 {
			add("limits: rates and bursts must not be negative")
		}
	}
	if r := c.Retention; r.PageViews < 0 || r.AccessLog < 0 || r.EventMap < 0 {
		add("retention periods must not be negative")
	}
	if c.Appservice.MaxConnections < 0 || c.Appservice.IdleTimeout < 0 {
		add("appservice.max_connections and appservice.idle_timeout must not be negative")
	}
	if c.Appservice.ID == "" {
		add("appservice.id is required")
	}
	if !localpartRe.MatchString(c.Appservice.BotUsername) {
		add("appservice.bot_username %q is not a valid localpart", c.Appservice.BotUsername)
	}
	if strings.Count(c.Appservice.GhostUsernameTemplate, "{{.}}") != 1 {
		add("appservice.ghost_username_template must contain {{.}} exactly once")
	}
	if requireSecrets {
		secrets := map[string]string{
			"appservice.as_token": c.Appservice.ASToken, "appservice.hs_token": c.Appservice.HSToken,
			"privacy.pseudonym_key": c.Privacy.PseudonymKey,
		}
		if c.Encryption.Enabled {
			secrets["encryption.pickle_key"] = c.Encryption.PickleKey
		}
		for name, v := range secrets {
			switch {
			case v == "" || v == Generate:
				add("%s is not set: generate the registration first (-g)", name)
			case secretBits(v) < minSecretBits:
				add("%s is too weak (about %d bits; at least %d): replace it with \"generate\" and run -g", name, secretBits(v), minSecretBits)
			}
		}
		if v := c.Appservice.SenderLocalpart; v == "" || v == Generate {
			add("appservice.sender_localpart is not set: generate the registration first (-g)")
		}
	}
	switch c.Database.Type {
	case "sqlite", "postgres":
	default:
		add("database.type must be sqlite or postgres, got %q", c.Database.Type)
	}
	if c.Database.URI == "" {
		add("database.uri is required")
	}
	switch c.Encryption.Mode {
	case EncryptionSync, EncryptionAppservice:
	default:
		add("encryption.mode must be sync or appservice, got %q", c.Encryption.Mode)
	}
	switch c.Logging.Format {
	case "pretty", "json":
	default:
		add("logging.format must be pretty or json, got %q", c.Logging.Format)
	}
	errs = append(errs, c.Dashboard.validate()...)
	errs = append(errs, c.Metrics.validate()...)
	errs = append(errs, c.Voice.validate()...)
	errs = append(errs, c.Native.validate()...)
	errs = append(errs, c.validateRecording()...)
	errs = append(errs, c.AdminAPI.validate()...)
	errs = append(errs, c.validateAdminKeys()...)
	errs = append(errs, c.validateTenants()...)
	return errors.Join(errs...)
}

// minSecretBits is the least strength of a token or key: 32 random bytes' worth. A
// short hand-made pseudonym key would let staff test guesses of Matrix IDs against
// ghost IDs; a short token lets anyone who can guess it speak for the homeserver.
const minSecretBits = 256

// secretBits estimates a secret's strength as if each character were drawn at random
// from the character classes it uses, and gives nothing to a string of few distinct
// characters (a repeated word is not random, whatever its length).
func secretBits(s string) int {
	var lower, upper, digit, other bool
	distinct := map[rune]bool{}
	for _, r := range s {
		distinct[r] = true
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	if len(distinct) < 16 {
		return 0
	}
	alphabet := 0
	for _, c := range []struct {
		used bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 32}} {
		if c.used {
			alphabet += c.size
		}
	}
	return int(float64(utf8.RuneCountInString(s)) * math.Log2(float64(alphabet)))
}

func (c *Config) validateTenants() (errs []error) {
	if len(c.Tenants) == 0 {
		return []error{errors.New("tenants: at least one tenant is required")}
	}
	ids := map[string]bool{}
	localparts := map[string]bool{c.Appservice.BotUsername: true}
	for i, t := range c.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		if !tenantIDRe.MatchString(t.ID) {
			errs = append(errs, fmt.Errorf("%s.id %q must be 1-32 of a-z, 0-9, _ and -", where, t.ID))
		} else if ids[t.ID] {
			errs = append(errs, fmt.Errorf("%s.id %q is used twice", where, t.ID))
		}
		ids[t.ID] = true
		if !localpartRe.MatchString(t.BusinessLocalpart) {
			errs = append(errs, fmt.Errorf("%s.business_localpart %q is not a valid localpart", where, t.BusinessLocalpart))
		} else if localparts[t.BusinessLocalpart] {
			errs = append(errs, fmt.Errorf("%s.business_localpart %q is already taken", where, t.BusinessLocalpart))
		} else if c.IsGhostLocalpart(t.BusinessLocalpart) {
			errs = append(errs, fmt.Errorf("%s.business_localpart %q falls in the ghost namespace", where, t.BusinessLocalpart))
		}
		localparts[t.BusinessLocalpart] = true
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name is required", where))
		}
		if t.Welcome == "" {
			errs = append(errs, fmt.Errorf("%s.welcome is required", where))
		}
		if err := routing.ValidateStaff(t.Staff); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		for _, s := range t.Staff {
			localpart, server, _ := id.UserID(s.UserID).Parse()
			if server == c.Homeserver.Domain && (localparts[localpart] || c.IsGhostLocalpart(localpart)) {
				errs = append(errs, fmt.Errorf("%s: staff %s is one of the service's own users", where, s.UserID))
			} else if server != c.Homeserver.Domain && !t.AllowRemoteAgents {
				errs = append(errs, fmt.Errorf("%s: staff %s is on another homeserver; set allow_remote_agents to allow it", where, s.UserID))
			}
		}
		if err := consent.ValidatePurposes(t.Consent); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if err := bot.ValidatePromptPurposes(t.Consent); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if t.ConsentTimeout != 0 && t.ConsentTimeout < 5*time.Second {
			errs = append(errs, fmt.Errorf("%s.consent_timeout %s is too short to answer; use 5s or more", where, t.ConsentTimeout))
		}
		for j, k := range t.APIKeys {
			if _, err := contextapi.ParseKeyHash(k); err != nil {
				errs = append(errs, fmt.Errorf("%s.api_keys[%d]: %w (write the hash of the key, never the key)", where, j, err))
			}
		}
		if err := contextmap.ValidateRegions(t.Regions); err != nil {
			errs = append(errs, fmt.Errorf("%s.regions: %w", where, err))
		}
		if err := contextmap.ValidateTopicRules(t.Topics); err != nil {
			errs = append(errs, fmt.Errorf("%s.topics: %w", where, err))
		}
		if t.Workflow != nil {
			if err := t.Workflow.Validate(t.Staff); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
		}
		if err := t.Hours.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		errs = append(errs, t.validateOutbound(where)...)
		errs = append(errs, t.validateReports(where)...)
		errs = append(errs, t.AgentTools.validate(where)...)
	}
	return errs
}
