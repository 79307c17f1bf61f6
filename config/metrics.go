package config

import (
	"fmt"
	"net"
	"time"

	"github.com/contactcenter/contactcenter/reporting"
)

// MetricsConfig is the Prometheus listener (internal/metrics).
type MetricsConfig struct {
	// Listen is where GET /metrics is served (host:port). Empty: metrics are off.
	// It needs no authentication: keep it on loopback or a private network.
	Listen string `yaml:"listen"`
}

func (m *MetricsConfig) validate() []error {
	if m.Listen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(m.Listen); err != nil {
		return []error{fmt.Errorf("metrics.listen %q is not host:port: %w", m.Listen, err)}
	}
	return nil
}

// ReportsConfig are a tenant's report settings (see reporting for the formulas).
type ReportsConfig struct {
	// TimeZone is where days begin (empty: the business hours' zone, else UTC).
	TimeZone string `yaml:"time_zone"`
	// ShortAbandon: contacts abandoned sooner than this after queuing are short
	// abandons (0: DefaultShortAbandon).
	ShortAbandon time.Duration `yaml:"short_abandon"`
	// ServiceLevel: accepted within Threshold (0: DefaultServiceLevelThreshold),
	// aiming at Target (0..1; 0: DefaultServiceLevelTarget); AbandonsCount keeps
	// abandoned contacts in the denominator (nil: true).
	ServiceLevelThreshold time.Duration `yaml:"service_level_threshold"`
	ServiceLevelTarget    float64       `yaml:"service_level_target"`
	AbandonsCount         *bool         `yaml:"abandons_count"`
}

// Defaults of the report settings.
const (
	DefaultShortAbandon          = 5 * time.Second
	DefaultServiceLevelThreshold = 20 * time.Second
	DefaultServiceLevelTarget    = 0.8
)

// ReportSettings are the tenant's report settings with the defaults applied.
func (t *Tenant) ReportSettings() (reporting.Settings, error) {
	r := t.Reports
	zone := r.TimeZone
	if zone == "" {
		zone = t.Hours.TimeZone
	}
	loc := time.UTC
	if zone != "" {
		var err error
		if loc, err = time.LoadLocation(zone); err != nil {
			return reporting.Settings{}, fmt.Errorf("time_zone %q is not a known time zone", zone)
		}
	}
	s := reporting.Settings{Location: loc, ShortAbandon: r.ShortAbandon, ServiceLevelThreshold: r.ServiceLevelThreshold,
		ServiceLevelTarget: r.ServiceLevelTarget, AbandonsCount: r.AbandonsCount == nil || *r.AbandonsCount}
	if s.ShortAbandon == 0 {
		s.ShortAbandon = DefaultShortAbandon
	}
	if s.ServiceLevelThreshold == 0 {
		s.ServiceLevelThreshold = DefaultServiceLevelThreshold
	}
	if s.ServiceLevelTarget == 0 {
		s.ServiceLevelTarget = DefaultServiceLevelTarget
	}
	switch {
	case s.ShortAbandon < 0 || s.ServiceLevelThreshold < 0:
		return reporting.Settings{}, fmt.Errorf("short_abandon and service_level_threshold must not be negative")
	case s.ServiceLevelTarget < 0 || s.ServiceLevelTarget > 1:
		return reporting.Settings{}, fmt.Errorf("service_level_target must be between 0 and 1, got %v", s.ServiceLevelTarget)
	}
	return s, nil
}

func (t *Tenant) validateReports(where string) []error {
	if _, err := t.ReportSettings(); err != nil {
		return []error{fmt.Errorf("%s.reports: %w", where, err)}
	}
	return nil
}
