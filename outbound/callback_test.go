package outbound

import (
	"testing"
	"time"
)

// A callback rests on the grant the customer gave when asking for it: it allows
// without a remembered "always" (even over an older "never"), ignores the frequency
// cap, keeps the contact window, and a later withdrawal still ends it.
func TestDecideCallback(t *testing.T) {
	p := testPolicy(t)
	tue := mustTime(t, "2026-03-10T12:00:00Z")
	asked := func(in Input) Input {
		in.Callback, in.TenantZone = true, "Europe/Lisbon"
		in.LastDecision, in.LastDecisionAt = DecisionGiven, tue.Add(-5*time.Minute)
		return in
	}
	full := []time.Time{tue.Add(-48 * time.Hour), tue.Add(-24 * time.Hour)} // the cap (two a week) is reached
	cases := []struct {
		name    string
		in      Input
		verdict Verdict
		codes   []Code
	}{
		{"asked, no standing choice", asked(Input{Now: tue}), Allowed, []Code{ReasonCallbackRequested, ReasonInWindow}},
		{"asked over an older never", asked(Input{Now: tue, ContactPolicy: PolicyNever, PolicySetAt: tue.Add(-time.Hour)}),
			Allowed, []Code{ReasonCallbackRequested, ReasonInWindow}},
		{"the cap does not count", asked(Input{Now: tue, Contacts: full}), Allowed, []Code{ReasonCallbackRequested, ReasonInWindow}},
		{"outside the window", asked(Input{Now: mustTime(t, "2026-03-10T20:00:00Z")}), Deferred, []Code{ReasonOutsideWindow}},
		{"never set after the grant", asked(Input{Now: tue, ContactPolicy: PolicyNever, PolicySetAt: tue}), Refused, []Code{ReasonConsentRefused}},
		{"withdrawn after", func() Input {
			in := asked(Input{Now: tue})
			in.LastDecision = DecisionWithdrawn
			return in
		}(), Refused, []Code{ReasonConsentWithdrawn}},
		{"not a callback", func() Input {
			in := asked(Input{Now: tue})
			in.Callback = false
			return in
		}(), Refused, []Code{ReasonNoStandingConsent}},
	}
	for _, c := range cases {
		d := Decide(p, c.in)
		if d.Verdict != c.verdict || !equalCodes(d.Codes(), c.codes) {
			t.Errorf("%s: %s %v, want %s %v", c.name, d.Verdict, d.Codes(), c.verdict, c.codes)
		}
	}
}

func equalCodes(a, b []Code) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
