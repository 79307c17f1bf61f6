package config

import (
	"fmt"
	"time"
)

// Supervision of calls and their recording.

// SupervisionConfig is how a tenant's supervisors take part in calls.
type SupervisionConfig struct {
	// QuietListen: a supervisor starting to listen is not announced to the agent
	// (whisper and barge always are).
	QuietListen bool `yaml:"quiet_listen"`
}

// Recording settings of a tenant (Tenant.Recording).
const (
	RecordingOff    = "off"    // calls are never recorded
	RecordingNotice = "notice" // the customer is told when a call starts; it is recorded unless they refuse
	RecordingAsk    = "ask"    // the customer is asked (the recording consent category); recorded only if they agree
)

// RecordingMode is the tenant's recording setting, off by default.
func (t *Tenant) RecordingMode() string {
	if t.Recording == "" {
		return RecordingOff
	}
	return t.Recording
}

// RecordingsConfig is where call recordings are kept and for how long.
type RecordingsConfig struct {
	// Dir holds one Ogg/Opus file per call and direction (mode 0600); required
	// when a tenant records calls.
	Dir string `yaml:"dir"`
	// Retention deletes recordings older than this (0: DefaultRecordingRetention).
	Retention time.Duration `yaml:"retention"`
}

// DefaultRecordingRetention is how long recordings are kept unless the config says.
const DefaultRecordingRetention = 90 * 24 * time.Hour

// Keep is the retention with the default applied.
func (r RecordingsConfig) Keep() time.Duration {
	if r.Retention > 0 {
		return r.Retention
	}
	return DefaultRecordingRetention
}

func (c *Config) validateRecording() []error {
	var errs []error
	records := false
	for i := range c.Tenants {
		t := &c.Tenants[i]
		switch t.RecordingMode() {
		case RecordingOff:
		case RecordingNotice, RecordingAsk:
			records = true
		default:
			errs = append(errs, fmt.Errorf("tenants[%d].recording must be off, notice or ask, got %q", i, t.Recording))
		}
	}
	if records && c.Voice.Recordings.Dir == "" {
		errs = append(errs, fmt.Errorf("voice.recordings.dir is required when a tenant records calls"))
	}
	if c.Voice.Recordings.Retention < 0 {
		errs = append(errs, fmt.Errorf("voice.recordings.retention must not be negative"))
	}
	return errs
}
