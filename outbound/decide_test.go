package outbound

import (
	"slices"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/routing"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// testPolicy: weekdays 09–18, Saturday 10–14, Sundays quiet, Friday 13 March 2026 a
// holiday, at most two contacts a week.
func testPolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := Config{
		TimeZone: "Europe/Lisbon",
		Window: map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00",
			"thu": "09:00-18:00", "fri": "09:00-18:00", "sat": "10:00-14:00", "sun": "10:00-12:00"},
		QuietDays:   []string{"sun"},
		Holidays:    []string{"2026-03-13"},
		MaxContacts: 2,
		Period:      routing.Duration(7 * 24 * time.Hour),
	}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecide(t *testing.T) {
	p := testPolicy(t)
	// Tuesday 10 March 2026, noon UTC: 12:00 in Lisbon, 08:00 in New York (EDT since
	// 8 March), 21:00 in Tokyo.
	tue := "2026-03-10T12:00:00Z"
	always := func(in Input) Input {
		in.ContactPolicy, in.PolicySetAt = PolicyAlways, mustTime(t, "2026-01-01T00:00:00Z")
		in.TenantZone = "Europe/Lisbon"
		return in
	}
	cases := []struct {
		name    string
		in      Input
		verdict Verdict
		until   string
		codes   []Code
		source  ZoneSource
	}{
		{name: "allowed in the tenant's zone", in: always(Input{Now: mustTime(t, tue)}),
			verdict: Allowed, codes: []Code{ReasonContactAlways, ReasonInWindow}, source: ZoneTenant},
		{name: "profile zone before the window opens",
			in:      always(Input{Now: mustTime(t, tue), ProfileZone: "America/New_York"}),
			verdict: Deferred, until: "2026-03-10T13:00:00Z", codes: []Code{ReasonOutsideWindow}, source: ZoneProfile},
		{name: "location zone wins over the profile",
			in:      always(Input{Now: mustTime(t, tue), ProfileZone: "America/New_York", LocationZone: "Asia/Tokyo"}),
			verdict: Deferred, until: "2026-03-11T00:00:00Z", codes: []Code{ReasonOutsideWindow}, source: ZoneLocation},
		{name: "an unknown profile zone is passed over",
			in:      always(Input{Now: mustTime(t, tue), ProfileZone: "Mars/Olympus_Mons"}),
			verdict: Allowed, codes: []Code{ReasonContactAlways, ReasonInWindow}, source: ZoneTenant},
		{name: "no zone at all reads UTC", in: Input{Now: mustTime(t, tue), ContactPolicy: PolicyAlways},
			verdict: Allowed, codes: []Code{ReasonContactAlways, ReasonInWindow}, source: ZoneUTC},
		{name: "ask is not standing consent", in: Input{Now: mustTime(t, tue), ContactPolicy: "ask", TenantZone: "Europe/Lisbon"},
			verdict: Refused, codes: []Code{ReasonNoStandingConsent}, source: ZoneTenant},
		{name: "no policy at all", in: Input{Now: mustTime(t, tue)},
			verdict: Refused, codes: []Code{ReasonNoStandingConsent}, source: ZoneUTC},
		{name: "a single grant in a conversation is not standing consent",
			in:      Input{Now: mustTime(t, tue), LastDecision: DecisionGiven, LastDecisionAt: mustTime(t, "2026-03-09T00:00:00Z")},
			verdict: Refused, codes: []Code{ReasonNoStandingConsent}, source: ZoneUTC},
		{name: "never", in: Input{Now: mustTime(t, tue), ContactPolicy: PolicyNever},
			verdict: Refused, codes: []Code{ReasonConsentRefused}, source: ZoneUTC},
		{name: "withdrawn after always is final",
			in:      always(Input{Now: mustTime(t, tue), LastDecision: DecisionWithdrawn, LastDecisionAt: mustTime(t, "2026-02-01T00:00:00Z")}),
			verdict: Refused, codes: []Code{ReasonConsentWithdrawn}, source: ZoneTenant},
		{name: "refused after always is final",
			in:      always(Input{Now: mustTime(t, tue), LastDecision: DecisionRefused, LastDecisionAt: mustTime(t, "2026-02-01T00:00:00Z")}),
			verdict: Refused, codes: []Code{ReasonConsentRefused}, source: ZoneTenant},
		{name: "withdrawn in the same instant as always counts as withdrawn",
			in:      always(Input{Now: mustTime(t, tue), LastDecision: DecisionWithdrawn, LastDecisionAt: mustTime(t, "2026-01-01T00:00:00Z")}),
			verdict: Refused, codes: []Code{ReasonConsentWithdrawn}, source: ZoneTenant},
		{name: "always remembered after a withdrawal",
			in: Input{Now: mustTime(t, tue), ContactPolicy: PolicyAlways, PolicySetAt: mustTime(t, "2026-03-01T00:00:00Z"),
				LastDecision: DecisionWithdrawn, LastDecisionAt: mustTime(t, "2026-02-01T00:00:00Z"), TenantZone: "Europe/Lisbon"},
			verdict: Allowed, codes: []Code{ReasonContactAlways, ReasonInWindow}, source: ZoneTenant},
		{name: "every refusal is listed",
			in:      Input{Now: mustTime(t, tue), OptedOut: true, OpenConversation: true, NotAfter: mustTime(t, "2026-03-10T11:00:00Z")},
			verdict: Refused, codes: []Code{ReasonNoStandingConsent, ReasonOptedOut, ReasonOpenConversation, ReasonRequestExpired}, source: ZoneUTC},
		{name: "opted out despite consent", in: always(Input{Now: mustTime(t, tue), OptedOut: true}),
			verdict: Refused, codes: []Code{ReasonOptedOut}, source: ZoneTenant},
		{name: "open conversation", in: always(Input{Now: mustTime(t, tue), OpenConversation: true}),
			verdict: Refused, codes: []Code{ReasonOpenConversation}, source: ZoneTenant},
		{name: "quiet Sunday defers to Monday", in: always(Input{Now: mustTime(t, "2026-03-15T10:30:00Z")}),
			verdict: Deferred, until: "2026-03-16T09:00:00Z", codes: []Code{ReasonQuietDay}, source: ZoneTenant},
		{name: "holiday defers to Saturday", in: always(Input{Now: mustTime(t, "2026-03-13T12:00:00Z")}),
			verdict: Deferred, until: "2026-03-14T10:00:00Z", codes: []Code{ReasonHoliday}, source: ZoneTenant},
		{name: "Saturday afternoon after the window defers past Sunday",
			in:      always(Input{Now: mustTime(t, "2026-03-14T15:00:00Z")}),
			verdict: Deferred, until: "2026-03-16T09:00:00Z", codes: []Code{ReasonOutsideWindow}, source: ZoneTenant},
		{name: "window end is exclusive", in: always(Input{Now: mustTime(t, "2026-03-10T18:00:00Z")}),
			verdict: Deferred, until: "2026-03-11T09:00:00Z", codes: []Code{ReasonOutsideWindow}, source: ZoneTenant},
		{name: "frequency cap defers until a contact leaves the period",
			in: always(Input{Now: mustTime(t, tue),
				Contacts: []time.Time{mustTime(t, "2026-03-08T10:00:00Z"), mustTime(t, "2026-03-05T15:00:00Z")}}),
			verdict: Deferred, until: "2026-03-12T15:00:00Z", codes: []Code{ReasonFrequencyCap}, source: ZoneTenant},
		{name: "contacts older than the period do not count",
			in: always(Input{Now: mustTime(t, tue),
				Contacts: []time.Time{mustTime(t, "2026-03-08T10:00:00Z"), mustTime(t, "2026-03-03T11:59:00Z")}}),
			verdict: Allowed, codes: []Code{ReasonContactAlways, ReasonInWindow}, source: ZoneTenant},
		{name: "cap frees out of hours, then a holiday",
			in: always(Input{Now: mustTime(t, tue),
				Contacts: []time.Time{mustTime(t, "2026-03-08T10:00:00Z"), mustTime(t, "2026-03-05T20:00:00Z")}}),
			verdict: Deferred, until: "2026-03-14T10:00:00Z", codes: []Code{ReasonFrequencyCap, ReasonOutsideWindow}, source: ZoneTenant},
		{name: "not_before in the future",
			in:      always(Input{Now: mustTime(t, tue), NotBefore: mustTime(t, "2026-03-11T10:00:00Z")}),
			verdict: Deferred, until: "2026-03-11T10:00:00Z", codes: []Code{ReasonNotBefore}, source: ZoneTenant},
		{name: "not_before at night waits for the window",
			in:      always(Input{Now: mustTime(t, tue), NotBefore: mustTime(t, "2026-03-11T22:00:00Z")}),
			verdict: Deferred, until: "2026-03-12T09:00:00Z", codes: []Code{ReasonNotBefore, ReasonOutsideWindow}, source: ZoneTenant},
		{name: "nothing opens before not_after",
			in:      always(Input{Now: mustTime(t, "2026-03-10T19:00:00Z"), NotAfter: mustTime(t, "2026-03-11T08:00:00Z")}),
			verdict: Refused, codes: []Code{ReasonNoTimeBefore, ReasonOutsideWindow}, source: ZoneTenant},
		{name: "opening exactly at not_after is allowed later",
			in:      always(Input{Now: mustTime(t, "2026-03-10T19:00:00Z"), NotAfter: mustTime(t, "2026-03-11T09:00:00Z")}),
			verdict: Deferred, until: "2026-03-11T09:00:00Z", codes: []Code{ReasonOutsideWindow}, source: ZoneTenant},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(p, c.in)
			if d.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s (%+v)", d.Verdict, c.verdict, d.Reasons)
			}
			if !slices.Equal(d.Codes(), c.codes) {
				t.Errorf("reasons %v, want %v", d.Codes(), c.codes)
			}
			for _, r := range d.Reasons {
				if r.Text == "" {
					t.Errorf("reason %s has no text", r.Code)
				}
			}
			if d.ZoneSource != c.source {
				t.Errorf("zone source %s (%s), want %s", d.ZoneSource, d.Zone, c.source)
			}
			switch {
			case c.until == "" && !d.Until.IsZero():
				t.Errorf("until %s, want none", d.Until)
			case c.until != "" && !d.Until.Equal(mustTime(t, c.until)):
				t.Errorf("until %s, want %s", d.Until.UTC().Format(time.RFC3339), c.until)
			}
			if d.Verdict == Deferred {
				// Deciding again at the time it names must allow.
				again := c.in
				again.Now = d.Until
				if d2 := Decide(p, again); d2.Verdict != Allowed {
					t.Errorf("decided again at %s: %s %v", d.Until, d2.Verdict, d2.Codes())
				}
			}
		})
	}
}

func TestDecideAcrossClockChange(t *testing.T) {
	// New York skips 02:00–03:00 on Sunday 8 March 2026; a span starting at 02:30
	// starts when the clock allows.
	p, err := Config{Window: map[string]string{"sun": "02:30-05:00"}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	now := mustTime(t, "2026-03-08T06:00:00Z") // 01:00 EST
	d := Decide(p, Input{Now: now, ContactPolicy: PolicyAlways, ProfileZone: "America/New_York"})
	if d.Verdict != Deferred || !d.Until.After(now) {
		t.Fatalf("%s until %s", d.Verdict, d.Until)
	}
	local := d.Until.In(mustZone(t, "America/New_York"))
	if local.Day() != 8 || local.Hour() < 3 || local.Hour() >= 5 {
		t.Errorf("until %s local, want within the span on the 8th", local)
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestDecideAnyTime(t *testing.T) {
	p, err := Config{}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2026-03-15T03:00:00Z", "2026-12-25T23:59:00Z"} {
		if d := Decide(p, Input{Now: mustTime(t, s), ContactPolicy: PolicyAlways}); d.Verdict != Allowed {
			t.Errorf("%s: %s %v", s, d.Verdict, d.Codes())
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	cases := map[string]Config{
		"unknown weekday":  {Window: map[string]string{"monday": "09:00-18:00"}},
		"not a span":       {Window: map[string]string{"mon": "9 to 5"}},
		"backwards span":   {Window: map[string]string{"mon": "18:00-09:00"}},
		"overlapping":      {Window: map[string]string{"mon": "09:00-12:00,11:00-14:00"}},
		"bad clock":        {Window: map[string]string{"mon": "09:00-25:00"}},
		"unknown zone":     {TimeZone: "Atlantis/Capital"},
		"bad quiet day":    {QuietDays: []string{"funday"}},
		"bad holiday":      {Holidays: []string{"25/12/2026"}},
		"negative cap":     {MaxContacts: -1},
		"cap no period":    {MaxContacts: 2},
		"never open":       {Window: map[string]string{"sun": "09:00-10:00"}, QuietDays: []string{"sun"}},
		"all days quiet":   {QuietDays: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
		"empty span parts": {Window: map[string]string{"mon": "09:00-12:00,"}},
	}
	for name, c := range cases {
		if _, err := c.Compile(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := DefaultConfig().Compile(); err != nil {
		t.Errorf("default config: %v", err)
	}
	p, err := Config{Window: map[string]string{"mon": "09:00-12:00, 14:00-24:00"}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	// Monday 16 March 2026 13:00 UTC is between the spans.
	d := Decide(p, Input{Now: mustTime(t, "2026-03-16T13:00:00Z"), ContactPolicy: PolicyAlways})
	if d.Verdict != Deferred || !d.Until.Equal(mustTime(t, "2026-03-16T14:00:00Z")) {
		t.Errorf("between spans: %s until %s", d.Verdict, d.Until)
	}
	if d = Decide(p, Input{Now: mustTime(t, "2026-03-16T23:59:00Z"), ContactPolicy: PolicyAlways}); d.Verdict != Allowed {
		t.Errorf("before 24:00: %s", d.Verdict)
	}
}

// A holiday on every open day for more than the search limit refuses instead of
// looping.
func TestDecideNothingOpens(t *testing.T) {
	var holidays []string
	start := mustTime(t, "2026-03-10T00:00:00Z")
	for d := range 400 {
		holidays = append(holidays, start.AddDate(0, 0, d).Format(time.DateOnly))
	}
	p, err := Config{Window: map[string]string{"mon": "09:00-10:00"}, Holidays: holidays}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	d := Decide(p, Input{Now: start.Add(time.Hour), ContactPolicy: PolicyAlways})
	if d.Verdict != Refused || !d.Has(ReasonNoTimeBefore) {
		t.Fatalf("%s %v", d.Verdict, d.Codes())
	}
}

func BenchmarkDecide(b *testing.B) {
	p := testPolicy(b)
	ins := []Input{
		{ContactPolicy: PolicyAlways, TenantZone: "Europe/Lisbon"},
		{ContactPolicy: PolicyAlways, ProfileZone: "America/New_York", TenantZone: "Europe/Lisbon"},
		{ContactPolicy: PolicyAlways, LocationZone: "Asia/Tokyo", TenantZone: "Europe/Lisbon",
			Contacts: []time.Time{mustTime(b, "2026-03-08T10:00:00Z"), mustTime(b, "2026-03-05T15:00:00Z")}},
		{ContactPolicy: "ask", TenantZone: "Europe/Lisbon"},
	}
	start := mustTime(b, "2026-03-09T00:00:00Z")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := ins[i%len(ins)]
		in.Now = start.Add(time.Duration(i%(7*24)) * time.Hour) // every hour of a week
		Decide(p, in)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "decisions/s")
}
