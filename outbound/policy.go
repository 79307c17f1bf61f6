package outbound

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contactcenter/contactcenter/routing"
)

// Config is a tenant's contact policy as written in its configuration: when, in the
// customer's local time, the business may contact a customer first, and how often.
type Config struct {
	// TimeZone is the tenant's default zone, for customers whose own is unknown
	// ("": the tenant's business-hours zone, else UTC; the bridge fills it in).
	TimeZone string `yaml:"time_zone"`
	// Window maps weekdays ("mon" … "sun") to spans of the customer's local time,
	// "09:00-12:00,14:00-18:00". No window at all: any time of any day; with a window,
	// a weekday left out is closed.
	Window map[string]string `yaml:"window"`
	// QuietDays are weekdays with no contact at all, whatever the window says.
	QuietDays []string `yaml:"quiet_days"`
	// Holidays are dates ("2026-12-25") in the customer's local calendar with no
	// contact.
	Holidays []string `yaml:"holidays"`
	// MaxContacts caps the outbound contacts of one customer within Period (0: none).
	MaxContacts int              `yaml:"max_contacts"`
	Period      routing.Duration `yaml:"period"`
}

// DefaultConfig is the policy of a tenant that configures none: weekdays 09:00–19:00
// and Saturdays 10:00–16:00 local time, no Sundays, at most two contacts a week.
func DefaultConfig() Config {
	return Config{
		Window: map[string]string{"mon": "09:00-19:00", "tue": "09:00-19:00", "wed": "09:00-19:00",
			"thu": "09:00-19:00", "fri": "09:00-19:00", "sat": "10:00-16:00"},
		QuietDays:   []string{"sun"},
		MaxContacts: 2,
		Period:      routing.Duration(7 * 24 * time.Hour),
	}
}

// Policy is a compiled Config.
type Policy struct {
	zone     string
	anyTime  bool
	spans    [7][]span // per time.Weekday
	quiet    [7]bool
	holidays map[string]bool // "2006-01-02"
	maxCount int
	period   time.Duration
}

// span is part of a day in minutes after midnight, end exclusive.
type span struct{ from, to int }

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Compile checks the config and makes the policy, reporting every problem at once.
func (c Config) Compile() (*Policy, error) {
	p := &Policy{zone: c.TimeZone, anyTime: len(c.Window) == 0,
		holidays: map[string]bool{}, maxCount: c.MaxContacts, period: c.Period.Std()}
	var errs []error
	if c.TimeZone != "" {
		if _, err := loadZone(c.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("time_zone %q is not a known time zone", c.TimeZone))
		}
	}
	for day, text := range c.Window {
		wd, ok := weekdays[strings.ToLower(day)]
		if !ok {
			errs = append(errs, fmt.Errorf("window: %q is not one of mon, tue, wed, thu, fri, sat, sun", day))
			continue
		}
		spans, err := parseSpans(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("window.%s: %w", day, err))
		}
		p.spans[wd] = spans
	}
	for _, day := range c.QuietDays {
		wd, ok := weekdays[strings.ToLower(day)]
		if !ok {
			errs = append(errs, fmt.Errorf("quiet_days: %q is not one of mon, tue, wed, thu, fri, sat, sun", day))
		}
		p.quiet[wd] = true
	}
	for _, h := range c.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			errs = append(errs, fmt.Errorf("holidays: %q is not a date like 2026-12-25", h))
		}
		p.holidays[h] = true
	}
	switch {
	case c.MaxContacts < 0:
		errs = append(errs, fmt.Errorf("max_contacts %d must not be negative", c.MaxContacts))
	case c.MaxContacts > 0 && c.Period <= 0:
		errs = append(errs, errors.New("max_contacts needs a period, such as 168h"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if p.closedAlways() {
		return nil, errors.New("window: no day is open for contact (every day is quiet or left out)")
	}
	return p, nil
}

// closedAlways tells whether no weekday ever opens.
func (p *Policy) closedAlways() bool {
	for wd := range 7 {
		if !p.quiet[wd] && (p.anyTime || len(p.spans[wd]) > 0) {
			return false
		}
	}
	return true
}

// TimeZone is the tenant's default zone as configured ("" when not set).
func (p *Policy) TimeZone() string { return p.zone }

// parseSpans reads "09:00-12:00,14:00-18:00": spans in order, not overlapping.
func parseSpans(text string) ([]span, error) {
	var out []span
	for part := range strings.SplitSeq(text, ",") {
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return nil, fmt.Errorf("%q is not a span like 09:00-18:00", strings.TrimSpace(part))
		}
		f, err1 := parseClock(from)
		t, err2 := parseClock(to)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if t <= f {
			return nil, fmt.Errorf("%q ends before it starts", strings.TrimSpace(part))
		}
		if len(out) > 0 && f < out[len(out)-1].to {
			return nil, fmt.Errorf("%q overlaps or precedes the span before it", strings.TrimSpace(part))
		}
		out = append(out, span{f, t})
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time like 09:30", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// nextOpen is the first moment at or after t when the window is open in loc, and
// what kept t itself out ("" when t is open). ok is false when nothing opens within
// about a year (possible only when holidays cover every open day).
func (p *Policy) nextOpen(t time.Time, loc *time.Location) (time.Time, Code, bool) {
	var first Code
	note := func(c Code) {
		if first == "" {
			first = c
		}
	}
days:
	for range 380 {
		local := t.In(loc)
		y, m, d := local.Date()
		switch {
		case p.holidays[local.Format(time.DateOnly)]:
			note(ReasonHoliday)
		case p.quiet[local.Weekday()]:
			note(ReasonQuietDay)
		case p.anyTime:
			return t, first, true
		default:
			minute := local.Hour()*60 + local.Minute()
			for _, s := range p.spans[local.Weekday()] {
				if minute >= s.from && minute < s.to {
					return t, first, true
				}
				if minute < s.from {
					start := time.Date(y, m, d, s.from/60, s.from%60, 0, 0, loc)
					if !start.After(t) { // a clock change skipped the span's start
						start = t.Add(time.Minute).Truncate(time.Minute)
					}
					note(ReasonOutsideWindow)
					t = start
					continue days
				}
			}
			note(ReasonOutsideWindow)
		}
		t = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	return time.Time{}, first, false
}

// capFreeAt is the first moment at or after t when fewer than the cap's contacts lie
// within the period before it.
func (p *Policy) capFreeAt(t time.Time, contacts []time.Time) time.Time {
	if p.maxCount <= 0 || len(contacts) < p.maxCount {
		return t
	}
	var within []time.Time
	for _, c := range contacts {
		if c.After(t.Add(-p.period)) {
			within = append(within, c)
		}
	}
	if len(within) < p.maxCount {
		return t
	}
	slices.SortFunc(within, time.Time.Compare)
	// The cap frees when all but maxCount-1 of these have left the period.
	return within[len(within)-p.maxCount].Add(p.period)
}

// Period is how far back the frequency cap counts contacts (0: no cap).
func (p *Policy) Period() time.Duration {
	if p.maxCount <= 0 {
		return 0
	}
	return p.period
}
