package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DashboardConfig is the supervisors' live dashboard: a page the service serves, which
// Element shows as a widget in a supervisor's control room.
type DashboardConfig struct {
	// PublicURL is where browsers reach the dashboard (the listener's
	// /_contactcenter/dashboard/ behind the TLS reverse proxy). Empty: the dashboard is off.
	PublicURL string `yaml:"public_url"`
	// SessionLifetime is how long a sign-in lasts; the page renews it before it ends,
	// and each renewal checks the staff list again (0: DefaultDashboardSession).
	SessionLifetime time.Duration `yaml:"session_lifetime"`
	// LinkLifetime is how long a one-time link from !dashboard stays valid
	// (0: DefaultDashboardLink).
	LinkLifetime time.Duration `yaml:"link_lifetime"`
	// The service asks a user's homeserver to confirm who holds a widget's OpenID token.
	// Its own homeserver is asked at homeserver.address; others over federation, found by
	// Matrix server discovery. A test bed whose homeservers use self-signed certificates
	// on loopback needs both of these; a real deployment neither.
	FederationInsecureTLS      bool `yaml:"federation_insecure_tls"`
	FederationPrivateAddresses bool `yaml:"federation_private_addresses"`
}

// Defaults of the dashboard's lifetimes.
const (
	DefaultDashboardSession = time.Hour
	DefaultDashboardLink    = 10 * time.Minute
)

// Enabled tells whether the dashboard is served.
func (d *DashboardConfig) Enabled() bool { return d.PublicURL != "" }

// Session is the session lifetime with the default applied.
func (d *DashboardConfig) Session() time.Duration {
	if d.SessionLifetime > 0 {
		return d.SessionLifetime
	}
	return DefaultDashboardSession
}

// Link is the one-time link lifetime with the default applied.
func (d *DashboardConfig) Link() time.Duration {
	if d.LinkLifetime > 0 {
		return d.LinkLifetime
	}
	return DefaultDashboardLink
}

func (d *DashboardConfig) validate() (errs []error) {
	if d.SessionLifetime < 0 || d.LinkLifetime < 0 {
		errs = append(errs, fmt.Errorf("dashboard: lifetimes must not be negative"))
	}
	if d.SessionLifetime > 0 && d.SessionLifetime < time.Minute {
		errs = append(errs, fmt.Errorf("dashboard.session_lifetime %s is too short for the page to renew it; use 1m or more", d.SessionLifetime))
	}
	if d.PublicURL == "" {
		return errs
	}
	u, err := url.Parse(d.PublicURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, fmt.Errorf("dashboard.public_url must be an http(s) URL, got %q", d.PublicURL))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("dashboard.public_url must have no query or fragment"))
	case !strings.HasSuffix(u.Path, "/"):
		errs = append(errs, fmt.Errorf("dashboard.public_url must end with a slash, got %q", d.PublicURL))
	}
	return errs
}
