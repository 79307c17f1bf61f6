// Package config reads, validates and completes the service's YAML configuration.
// The example config embedded in the binary is the single source of defaults.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter"
	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/internal/ratelimit"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

// Generate is the placeholder for secrets that the service creates itself.
const Generate = "generate"

type Config struct {
	Homeserver HomeserverConfig `yaml:"homeserver"`
	Appservice AppserviceConfig `yaml:"appservice"`
	Database   DatabaseConfig   `yaml:"database"`
	Encryption EncryptionConfig `yaml:"encryption"`
	Privacy    PrivacyConfig    `yaml:"privacy"`
	Retention  RetentionConfig  `yaml:"retention"`
	Limits     LimitsConfig     `yaml:"limits"`
	Federation FederationConfig `yaml:"federation"`
	Dashboard  DashboardConfig  `yaml:"dashboard"`
	Metrics    MetricsConfig    `yaml:"metrics"`
	Voice      VoiceConfig      `yaml:"voice"`
	Native     NativeConfig     `yaml:"native"`
	Logging    LoggingConfig    `yaml:"logging"`
	// AdminAPI holds the provider-level admin API keys (see outbound.go).
	AdminAPI AdminAPIConfig `yaml:"admin_api"`
	Tenants  []Tenant       `yaml:"tenants"`

	// Path is where the config was read from; relative paths inside it are resolved
	// against its directory.
	Path string `yaml:"-"`
}

type HomeserverConfig struct {
	Address string `yaml:"address"`
	Domain  string `yaml:"domain"`
	// SyncRedactions reads desk-room redactions with one poller (/messages), for
	// homeservers that do not push redactions to appservices (Dendrite).
	SyncRedactions bool `yaml:"sync_redactions"`
}

type AppserviceConfig struct {
	Listen                string `yaml:"listen"`
	Address               string `yaml:"address"`
	ID                    string `yaml:"id"`
	ASToken               string `yaml:"as_token"`
	HSToken               string `yaml:"hs_token"`
	SenderLocalpart       string `yaml:"sender_localpart"`
	BotUsername           string `yaml:"bot_username"`
	GhostUsernameTemplate string `yaml:"ghost_username_template"`
	// MaxConnections caps the listener's open connections (0: DefaultMaxConnections);
	// IdleTimeout closes keep-alive connections that carry nothing (0: DefaultIdleTimeout).
	MaxConnections int           `yaml:"max_connections"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
}

// Defaults of the listener's limits.
const (
	DefaultMaxConnections = 1024
	DefaultIdleTimeout    = 2 * time.Minute
)

type DatabaseConfig struct {
	Type         string `yaml:"type"`
	URI          string `yaml:"uri"`
	MaxOpenConns int    `yaml:"max_open_conns"`
	MaxIdleConns int    `yaml:"max_idle_conns"`
}

// EncryptionMode says how to-device messages and key counts reach the service.
type EncryptionMode string

const (
	EncryptionSync       EncryptionMode = "sync"
	EncryptionAppservice EncryptionMode = "appservice"
)

type EncryptionConfig struct {
	Enabled   bool           `yaml:"enabled"`
	Mode      EncryptionMode `yaml:"mode"`
	MSC4190   bool           `yaml:"msc4190"`
	PickleKey string         `yaml:"pickle_key"`
}

// LimitsConfig caps what one party may make the service do, so that a flood from one
// customer, server or API client cannot crowd out the others. A zero rate is no limit.
type LimitsConfig struct {
	// CustomerEvents: messages, reactions and commands handled per customer.
	CustomerEvents RateConfig `yaml:"customer_events"`
	// ServerEvents: the same, per customer homeserver (all its users together).
	ServerEvents RateConfig `yaml:"server_events"`
	// RoomsOpened: rooms a customer may open (invites) with each business identity.
	RoomsOpened RateConfig `yaml:"rooms_opened"`
	// CodeAttempts: link and visitor codes a customer may try.
	CodeAttempts RateConfig `yaml:"code_attempts"`
	// APIRequests: requests per context API key.
	APIRequests RateConfig `yaml:"api_requests"`
}

// RateConfig is a burst and then one more every Every.
type RateConfig struct {
	Every time.Duration `yaml:"every"`
	Burst int           `yaml:"burst"`
}

// Limit is the rate as the limiter takes it.
func (r RateConfig) Limit() ratelimit.Limit { return ratelimit.Limit{Per: r.Every, Burst: r.Burst} }

// RetentionConfig says how long the service keeps what it needs only for a while;
// 0 takes the default.
type RetentionConfig struct {
	// PageViews older than this are deleted (default: the 30 days of browsing the
	// card reads).
	PageViews time.Duration `yaml:"page_views"`
	// AccessLog entries older than this are deleted (default a year).
	AccessLog time.Duration `yaml:"access_log"`
	// EventMap: the event map of a conversation closed longer than this is deleted,
	// with its consent reactions and shared locations (default 90 days).
	EventMap time.Duration `yaml:"event_map"`
}

type PrivacyConfig struct {
	PseudonymKey string `yaml:"pseudonym_key"`
}

type FederationConfig struct {
	BannedServers []string `yaml:"banned_servers"`
}

type LoggingConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

type Tenant struct {
	ID                string `yaml:"id"`
	Name              string `yaml:"name"`
	BusinessLocalpart string `yaml:"business_localpart"`
	DisplayName       string `yaml:"display_name"`
	Avatar            string `yaml:"avatar"`
	Welcome           string `yaml:"welcome"`
	Closing           string `yaml:"closing"`
	// AllowRemoteAgents lets staff from other homeservers serve customers; their
	// desk and side rooms then federate.
	AllowRemoteAgents bool `yaml:"allow_remote_agents"`
	// AccountPassword is the business identity's password, for homeservers that ask
	// for one before the service may publish the identity's cross-signing keys
	// (Dendrite; Synapse does not ask appservice users). The homeserver's admin sets
	// the same password on the account.
	AccountPassword string            `yaml:"account_password,omitempty"`
	Staff           []routing.Staff   `yaml:"staff"`
	Consent         []consent.Purpose `yaml:"consent"`
	// ConsentTimeout is how long a consent prompt waits; unanswered counts as refused
	// (0: DefaultConsentTimeout).
	ConsentTimeout time.Duration `yaml:"consent_timeout"`
	// APIKeys are SHA-256 hashes ("sha256:<hex>") of the keys of the tenant's context
	// API clients; the keys themselves are never stored.
	APIKeys []string `yaml:"api_keys"`
	// Regions map a customer's shared location to a region, time zone and language.
	Regions []contextmap.Region `yaml:"regions"`
	// Topics turn pages a customer viewed into topics for agents and routing.
	Topics []contextmap.TopicRule `yaml:"topics"`
	// ConsentWait holds a new conversation back from routing while its first consent
	// prompt is unanswered, at most this long, so routing can use what the customer
	// shares (their account manager, say). 0: route at once.
	ConsentWait time.Duration `yaml:"consent_wait"`
	// Workflow routes conversations to agents (nil: routing.DefaultWorkflow).
	Workflow *routing.Workflow `yaml:"workflow"`
	// Hours are the business hours; outside them customers get ClosedMessage and wait.
	Hours         routing.Hours `yaml:"hours"`
	ClosedMessage string        `yaml:"closed_message"`
	// MaxWaitMessage is said once when a conversation waited the workflow's max_wait.
	MaxWaitMessage string `yaml:"max_wait_message"`
	// CallNoAgentMessage is said to a caller no agent can answer (see voice.go).
	CallNoAgentMessage string `yaml:"call_no_agent_message"`
	// HoldPrompt answers a caller at once and plays the hold prompt until an agent
	// answers (voice.enabled); false: the caller's client rings until then.
	HoldPrompt bool `yaml:"hold_prompt"`
	// AdminAPIKeys are SHA-256 hashes ("sha256:<hex>") of the tenant's admin API keys.
	AdminAPIKeys []string `yaml:"admin_api_keys"`
	// Outbound is when customers may be contacted first (nil: outbound.DefaultConfig).
	Outbound *outbound.Config `yaml:"outbound"`
	// Triggers propose contacting customers to agents from consented context.
	Triggers []outbound.RuleConfig `yaml:"triggers"`
	// Reports are the tenant's report settings (see metrics.go).
	Reports ReportsConfig `yaml:"reports"`
	// Supervision: how supervisors take part in calls (see supervision.go).
	Supervision SupervisionConfig `yaml:"supervision"`
	// Recording of calls: off, notice or ask (see supervision.go).
	Recording string `yaml:"recording"`
	// AgentTools: canned replies, wrap-up codes, the survey (see agenttools.go).
	AgentTools AgentToolsConfig `yaml:",inline"`
	// PresenceAvailability lets an agent's Matrix presence set them offline or away
	// (never ready; see native.go).
	PresenceAvailability bool `yaml:"presence_availability"`
}

// RoutingWorkflow is the tenant's workflow, or the default one.
func (t *Tenant) RoutingWorkflow() *routing.Workflow {
	if t.Workflow != nil {
		return t.Workflow
	}
	return routing.DefaultWorkflow()
}

// DefaultConsentTimeout is how long a consent prompt waits unless the tenant says.
const DefaultConsentTimeout = 2 * time.Minute

// PromptTimeout is the tenant's consent timeout, with the default applied.
func (t *Tenant) PromptTimeout() time.Duration {
	if t.ConsentTimeout > 0 {
		return t.ConsentTimeout
	}
	return DefaultConsentTimeout
}

// APIKeyHashes decodes the tenant's API key hashes (Validate reports bad ones).
func (t *Tenant) APIKeyHashes() [][32]byte {
	var out [][32]byte
	for _, k := range t.APIKeys {
		if h, err := contextapi.ParseKeyHash(k); err == nil {
			out = append(out, h)
		}
	}
	return out
}

// Purposes are the consent categories the tenant asks for, with their purposes.
func (t *Tenant) Purposes() []consent.Purpose {
	if len(t.Consent) == 0 {
		return consent.DefaultPurposes()
	}
	return t.Consent
}

// Example parses the embedded example config.
func Example() *Config {
	var cfg Config
	if err := yaml.Unmarshal(contactcenter.ExampleConfig, &cfg); err != nil {
		panic(fmt.Errorf("embedded example config is invalid: %w", err))
	}
	return &cfg
}

// Load reads a config file. Keys missing from the file keep the example's defaults;
// unknown keys are an error so that typos do not silently fall back to defaults.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := Example()
	cfg.Tenants = nil
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err = dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.Path = path
	return cfg, nil
}

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

// BotUserID is the service-wide bot.
func (c *Config) BotUserID() id.UserID {
	return id.NewUserID(c.Appservice.BotUsername, c.Homeserver.Domain)
}

// BusinessUserID is the identity customers DM for a tenant.
func (c *Config) BusinessUserID(t *Tenant) id.UserID {
	return id.NewUserID(t.BusinessLocalpart, c.Homeserver.Domain)
}

// GhostUserID is the ghost for an opaque ghost ID.
func (c *Config) GhostUserID(ghostID string) id.UserID {
	return id.NewUserID(strings.Replace(c.Appservice.GhostUsernameTemplate, "{{.}}", ghostID, 1), c.Homeserver.Domain)
}

// IsGhostLocalpart tells whether a localpart belongs to the ghost namespace.
func (c *Config) IsGhostLocalpart(localpart string) bool {
	prefix, suffix, _ := strings.Cut(c.Appservice.GhostUsernameTemplate, "{{.}}")
	return len(localpart) > len(prefix)+len(suffix) && strings.HasPrefix(localpart, prefix) && strings.HasSuffix(localpart, suffix)
}

// TenantByBusinessUser finds the tenant whose business identity is userID.
func (c *Config) TenantByBusinessUser(userID id.UserID) *Tenant {
	for i := range c.Tenants {
		if c.BusinessUserID(&c.Tenants[i]) == userID {
			return &c.Tenants[i]
		}
	}
	return nil
}

// TenantByID finds a tenant by its ID.
func (c *Config) TenantByID(tenantID string) *Tenant {
	for i := range c.Tenants {
		if c.Tenants[i].ID == tenantID {
			return &c.Tenants[i]
		}
	}
	return nil
}

// IsBanned tells whether invites from this server are refused.
func (c *Config) IsBanned(serverName string) bool {
	for _, s := range c.Federation.BannedServers {
		if strings.EqualFold(s, serverName) {
			return true
		}
	}
	return false
}

// ResolvePath makes a path from the config relative to the config file's directory.
func (c *Config) ResolvePath(p string) string {
	if filepath.IsAbs(p) || c.Path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}
