// Package config reads, validates and completes the service's YAML configuration.
// The example config embedded in the binary is the single source of defaults.
package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter"
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
