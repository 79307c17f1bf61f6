package routing

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Hours are a tenant's business hours: per weekday one opening span in the tenant's
// time zone. No hours at all means always open; a weekday left out is closed.
type Hours struct {
	TimeZone string            `yaml:"time_zone"`
	Days     map[string]string `yaml:"days"` // "mon": "09:00-18:00"
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// span is an opening span in minutes after midnight, end exclusive.
type span struct{ from, to int }

func parseSpan(s string) (span, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return span{}, fmt.Errorf("%q is not a span like 09:00-18:00", s)
	}
	f, err1 := parseClock(from)
	t, err2 := parseClock(to)
	if err := errors.Join(err1, err2); err != nil {
		return span{}, err
	}
	if t <= f {
		return span{}, fmt.Errorf("%q ends before it starts", s)
	}
	return span{f, t}, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * 60, nil
		}
		return 0, fmt.Errorf("%q is not a time like 09:30", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Validate reports every problem of the hours.
func (h *Hours) Validate() error {
	if h == nil || (h.TimeZone == "" && len(h.Days) == 0) {
		return nil
	}
	var errs []error
	if _, err := time.LoadLocation(h.TimeZone); err != nil || h.TimeZone == "" {
		errs = append(errs, fmt.Errorf("hours.time_zone %q is not a known time zone", h.TimeZone))
	}
	for day, s := range h.Days {
		if _, ok := weekdays[day]; !ok {
			errs = append(errs, fmt.Errorf("hours.days: %q is not one of mon, tue, wed, thu, fri, sat, sun", day))
		} else if _, err := parseSpan(s); err != nil {
			errs = append(errs, fmt.Errorf("hours.days.%s: %w", day, err))
		}
	}
	return errors.Join(errs...)
}

// Open tells whether the business is open at a moment. Invalid hours (which Validate
// refuses at start) count as always open rather than never.
func (h *Hours) Open(now time.Time) bool {
	if h == nil || (h.TimeZone == "" && len(h.Days) == 0) {
		return true
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return true
	}
	local := now.In(loc)
	for day, s := range h.Days {
		if weekdays[day] != local.Weekday() {
			continue
		}
		sp, err := parseSpan(s)
		minute := local.Hour()*60 + local.Minute()
		return err == nil && minute >= sp.from && minute < sp.to
	}
	return false
}
