package outbound

import (
	"fmt"
	"time"
)

// Verdict is what a decision says about contacting the customer now.
type Verdict string

const (
	Allowed  Verdict = "allowed"
	Deferred Verdict = "deferred"
	Refused  Verdict = "refused"
)

// Code names one reason of a decision; the API shows codes as they are.
type Code string

// Reasons that refuse: nothing will change them without the customer.
const (
	ReasonNoStandingConsent Code = "no_standing_consent" // contact is not remembered as always
	ReasonConsentRefused    Code = "consent_refused"     // the customer refused contact (or remembered never)
	ReasonConsentWithdrawn  Code = "consent_withdrawn"   // the customer withdrew contact (!stop, !privacy)
	ReasonOptedOut          Code = "opted_out"           // the tenant's own do-not-contact mark
	ReasonOpenConversation  Code = "open_conversation"   // the customer is in a conversation with the tenant now
	ReasonRequestExpired    Code = "request_expired"     // not_after has passed
	ReasonNoTimeBefore      Code = "no_time_before_end"  // nothing opens before not_after
)

// Reasons that defer (and explain a refusal by ReasonNoTimeBefore).
const (
	ReasonNotBefore     Code = "not_before"     // the request's window has not begun
	ReasonOutsideWindow Code = "outside_window" // the customer's local time is outside the contact window
	ReasonQuietDay      Code = "quiet_day"
	ReasonHoliday       Code = "holiday"
	ReasonFrequencyCap  Code = "frequency_cap" // the customer was contacted the most times the period allows
)

// Reasons that allow.
const (
	ReasonContactAlways     Code = "contact_always"     // the customer remembered contact: always
	ReasonCallbackRequested Code = "callback_requested" // the customer asked to be called back
	ReasonInWindow          Code = "in_window"
)

// Consent states as the consent ledger names them (its Policy and Decision values).
const (
	PolicyAlways      = "always"
	PolicyNever       = "never"
	DecisionGiven     = "given"
	DecisionRefused   = "refused"
	DecisionWithdrawn = "withdrawn"
)

// Input is everything a decision depends on; the bridge reads it (context through the
// consent gate) and stores it with the decision.
type Input struct {
	Now time.Time `json:"now"`
	// ContactPolicy is the customer's standing choice for the contact category
	// ("always", "ask", "never"; "" is ask) and PolicySetAt when they made it.
	ContactPolicy string    `json:"contact_policy"`
	PolicySetAt   time.Time `json:"policy_set_at,omitzero"`
	// LastDecision is the newest consent record of the contact category ("given",
	// "refused", "withdrawn"; "" none) and LastDecisionAt its time. A refusal or
	// withdrawal newer than the policy ends contact, whatever the policy says.
	LastDecision   string    `json:"last_decision,omitempty"`
	LastDecisionAt time.Time `json:"last_decision_at,omitzero"`
	// OptedOut is the tenant's own mark that the customer is not to be contacted.
	OptedOut bool `json:"opted_out,omitempty"`
	// OpenConversation: the customer is in a conversation with the tenant now.
	OpenConversation bool `json:"open_conversation,omitempty"`
	// LocationZone is the zone of the region of the customer's consented location,
	// ProfileZone their m.tz profile field, TenantZone the tenant's default.
	LocationZone string `json:"location_zone,omitempty"`
	ProfileZone  string `json:"profile_zone,omitempty"`
	TenantZone   string `json:"tenant_zone,omitempty"`
	// NotBefore and NotAfter bound the request (zero: unbounded).
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// Contacts are when the customer was contacted by the tenant before (outbound
	// requests that went past the decision), for the frequency cap.
	Contacts []time.Time `json:"contacts,omitempty"`
	// Callback: the customer asked to be called back. Their grant of contact for that
	// purpose (LastDecision "given", newer than the policy) stands in for a remembered
	// "always", and the frequency cap, which limits what the business starts, does
	// not apply; a later refusal or withdrawal still ends it.
	Callback bool `json:"callback,omitempty"`
}

// Reason is one reason of a decision, with words for people.
type Reason struct {
	Code Code   `json:"code"`
	Text string `json:"text"`
}

// Decision is the outcome: allowed now, deferred until a time, or refused.
type Decision struct {
	Verdict Verdict `json:"verdict"`
	// Until is when a deferred request may go (zero otherwise).
	Until   time.Time `json:"until,omitzero"`
	Reasons []Reason  `json:"reasons"`
	// Zone is the customer's time zone the window was read in, and ZoneSource where
	// it came from; LocalTime is Now there.
	Zone       string     `json:"zone"`
	ZoneSource ZoneSource `json:"zone_source"`
	LocalTime  string     `json:"local_time"`
}

// Codes lists the decision's reason codes.
func (d *Decision) Codes() []Code {
	out := make([]Code, len(d.Reasons))
	for i, r := range d.Reasons {
		out[i] = r.Code
	}
	return out
}

// Has tells whether a reason code is among the decision's reasons.
func (d *Decision) Has(c Code) bool {
	for _, r := range d.Reasons {
		if r.Code == c {
			return true
		}
	}
	return false
}

// searchLimit bounds how far ahead a deferral looks: beyond it the request would be
// stale anyway.
const searchLimit = 366 * 24 * time.Hour

// Decide decides whether the business may contact the customer now. Refusals come
// first and are all listed; only a request nothing refuses is deferred or allowed.
func Decide(p *Policy, in Input) Decision {
	loc, zone, source := resolveZone(in.LocationZone, in.ProfileZone, in.TenantZone)
	d := Decision{Zone: zone, ZoneSource: source, LocalTime: in.Now.In(loc).Format("2006-01-02 15:04 Mon")}
	refuse := func(c Code, format string, args ...any) {
		d.Reasons = append(d.Reasons, Reason{c, fmt.Sprintf(format, args...)})
	}
	refuseConsent(in, refuse)
	if in.OptedOut {
		refuse(ReasonOptedOut, "the customer is marked not to be contacted")
	}
	if in.OpenConversation {
		refuse(ReasonOpenConversation, "the customer is in a conversation with you now: write there")
	}
	if !in.NotAfter.IsZero() && in.Now.After(in.NotAfter) {
		refuse(ReasonRequestExpired, "not_after (%s) has passed", in.NotAfter.UTC().Format(time.RFC3339))
	}
	if len(d.Reasons) > 0 {
		d.Verdict = Refused
		return d
	}
	at, why := earliest(p, in, loc)
	switch {
	case at.IsZero() || (!in.NotAfter.IsZero() && at.After(in.NotAfter)):
		d.Verdict = Refused
		d.Reasons = append(d.Reasons, Reason{ReasonNoTimeBefore, "no time the customer may be contacted falls before the request ends"})
		d.Reasons = append(d.Reasons, explain(why, d.Zone, source, d.LocalTime)...)
	case at.After(in.Now):
		d.Verdict, d.Until = Deferred, at.UTC()
		d.Reasons = explain(why, d.Zone, source, d.LocalTime)
	default:
		d.Verdict = Allowed
		consented := Reason{ReasonContactAlways, "the customer agreed to be contacted (remembered: always)"}
		if callbackAsked(in) {
			consented = Reason{ReasonCallbackRequested, "the customer asked to be called back"}
		}
		d.Reasons = []Reason{consented,
			{ReasonInWindow, fmt.Sprintf("inside the contact window: %s in %s (from %s)", d.LocalTime, d.Zone, source)},
		}
	}
	return d
}

// callbackAsked: the request is a callback and the customer's newest word on contact
// is the grant they gave for it, made after their standing choice.
func callbackAsked(in Input) bool {
	return in.Callback && in.LastDecision == DecisionGiven && !in.LastDecisionAt.Before(in.PolicySetAt)
}

// refuseConsent applies the consent rule: only a remembered "always", or the grant a
// customer gave when asking to be called back, allows; a refusal or withdrawal newer
// than the standing choice is final.
func refuseConsent(in Input, refuse func(Code, string, ...any)) {
	final := (in.LastDecision == DecisionRefused || in.LastDecision == DecisionWithdrawn) &&
		!in.LastDecisionAt.Before(in.PolicySetAt)
	switch {
	case final && in.LastDecision == DecisionWithdrawn:
		refuse(ReasonConsentWithdrawn, "the customer withdrew their consent to be contacted")
	case final:
		refuse(ReasonConsentRefused, "the customer refused to be contacted")
	case callbackAsked(in):
		// Asked for now, whatever they chose for good before.
	case in.ContactPolicy == PolicyNever:
		refuse(ReasonConsentRefused, "the customer refused to be contacted")
	case in.ContactPolicy != PolicyAlways:
		refuse(ReasonNoStandingConsent, "the customer has not agreed to be contacted first (no remembered consent to contact)")
	}
}

// earliest is the first moment from now (or not_before) that the request's window,
// the frequency cap and the contact window all allow, and what held it back; zero
// when nothing opens within the search limit.
func earliest(p *Policy, in Input, loc *time.Location) (time.Time, []Code) {
	var why []Code
	add := func(c Code) {
		for _, w := range why {
			if w == c {
				return
			}
		}
		why = append(why, c)
	}
	t := in.Now
	if in.NotBefore.After(t) {
		t = in.NotBefore
		add(ReasonNotBefore)
	}
	contacts := in.Contacts
	if in.Callback {
		contacts = nil
	}
	limit := in.Now.Add(searchLimit)
	for t.Before(limit) {
		if free := p.capFreeAt(t, contacts); free.After(t) {
			add(ReasonFrequencyCap)
			t = free
			continue
		}
		open, c, ok := p.nextOpen(t, loc)
		if !ok {
			break
		}
		if c != "" {
			add(c)
		}
		if !open.After(t) {
			return t, why
		}
		t = open
	}
	return time.Time{}, why
}

// explain turns the codes that held a request back into reasons.
func explain(codes []Code, zone string, source ZoneSource, local string) []Reason {
	out := make([]Reason, 0, len(codes))
	for _, c := range codes {
		var text string
		switch c {
		case ReasonNotBefore:
			text = "the request's not_before has not come yet"
		case ReasonOutsideWindow:
			text = fmt.Sprintf("outside the contact window: %s in %s (from %s)", local, zone, source)
		case ReasonQuietDay:
			text = fmt.Sprintf("a quiet day in %s (from %s)", zone, source)
		case ReasonHoliday:
			text = fmt.Sprintf("a holiday in %s (from %s)", zone, source)
		case ReasonFrequencyCap:
			text = "the customer was contacted as often as the period allows"
		}
		out = append(out, Reason{c, text})
	}
	return out
}
