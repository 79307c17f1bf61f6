package reporting

import "time"

// Contact is one conversation folded from its log entries.
type Contact struct {
	Conversation int64
	OpenedAt     time.Time
	Customer     string
	// Step is the step it was first queued at; Agent the agent who served it last
	// (empty if nobody did).
	Step  string
	Agent string
	// The first time of each; zero if it did not happen.
	Queued, Accepted, FirstResponse, Ended, Abandoned, WrapUpEnded time.Time
	EndedBy, AbandonReason                                         string
	Transfers, Requeues, CallsStarted, CallsAnswered               int
	// Offered, Missed and Declined are the agents offered it, who let an offer
	// lapse, who passed on it.
	Offered, Missed, Declined []string
	// Serving are the spans during which an agent served it, with the last agent's
	// wrap-up; End is zero while it lasts.
	Serving  []Span
	Consent  []ConsentAnswer
	Outbound string
	// Disposition is the wrap-up code given (the first); Rating the customer's
	// survey rating, 1 to 5 (0: none).
	Disposition string
	Rating      int
}

// Span is a time an agent spent on a conversation.
type Span struct {
	Agent      string
	Start, End time.Time
}

// ConsentAnswer is a consent category's answer within a conversation.
type ConsentAnswer struct {
	Category string
	Outcome  Kind
}

// Outcomes of a contact.
const (
	OutcomeHandled      = "handled"       // an agent accepted it and it ended
	OutcomeServing      = "serving"       // an agent accepted it and it has not ended
	OutcomeWaiting      = "waiting"       // nobody accepted it yet
	OutcomeAbandoned    = "abandoned"     // the customer gave up before any agent accepted
	OutcomeShortAbandon = "short_abandon" // the same, within the short-abandon threshold
	OutcomeUnhandled    = "unhandled"     // it ended before any agent accepted, not abandoned
	// An outbound contact nobody served is "outbound_" and its outcome.
)

// Outcome says how the contact went; shortAbandon is the tenant's threshold.
func (c *Contact) Outcome(shortAbandon time.Duration) string {
	switch {
	case !c.Accepted.IsZero() && !c.Ended.IsZero():
		return OutcomeHandled
	case !c.Accepted.IsZero():
		return OutcomeServing
	case !c.Abandoned.IsZero() && c.IsShortAbandon(shortAbandon):
		return OutcomeShortAbandon
	case !c.Abandoned.IsZero():
		return OutcomeAbandoned
	case !c.Ended.IsZero():
		return OutcomeUnhandled
	case c.Outbound != "":
		return "outbound_" + c.Outbound
	}
	return OutcomeWaiting
}

// IsAbandoned: abandoned before any agent accepted it.
func (c *Contact) IsAbandoned() bool { return c.Accepted.IsZero() && !c.Abandoned.IsZero() }

// IsShortAbandon: abandoned sooner than the threshold after it was queued.
func (c *Contact) IsShortAbandon(threshold time.Duration) bool {
	return c.IsAbandoned() && c.Abandoned.Sub(c.queuedOrOpened()) < threshold
}

func (c *Contact) queuedOrOpened() time.Time {
	if !c.Queued.IsZero() {
		return c.Queued
	}
	return c.OpenedAt
}

// Handle is the time agents served it plus the wrap-up; false until it ended after
// an agent accepted it.
func (c *Contact) Handle() (time.Duration, bool) {
	if c.Accepted.IsZero() || c.Ended.IsZero() {
		return 0, false
	}
	var d time.Duration
	for _, s := range c.Serving {
		if !s.End.IsZero() {
			d += s.End.Sub(s.Start)
		}
	}
	return d, true
}

// Fold folds one conversation's entries, in the order they happened, into its
// contact. An entry whose key an earlier entry had is a replay and is skipped: the
// first write of a cause is the one that counts, as in the database.
func Fold(entries []Entry) Contact {
	var c Contact
	var seen map[string]bool // the store's entries are unique already and come without keys
	current := -1            // index in c.Serving of the open span
	closeSpan := func(at time.Time) {
		if current >= 0 {
			c.Serving[current].End = at
			current = -1
		}
	}
	first := func(t *time.Time, at time.Time) bool {
		if t.IsZero() {
			*t = at
			return true
		}
		return false
	}
	for _, e := range entries {
		if e.Key != "" {
			if seen[e.Key] {
				continue
			}
			if seen == nil {
				seen = make(map[string]bool, len(entries))
			}
			seen[e.Key] = true
		}
		if c.OpenedAt.IsZero() {
			c.Conversation, c.OpenedAt = e.Conversation, e.OpenedAt
		}
		switch e.Kind {
		case Queued:
			if first(&c.Queued, e.At) {
				c.Step, c.Customer = e.Step, e.Customer
			}
		case Offered:
			c.Offered = append(c.Offered, e.Agent)
		case OfferMissed:
			c.Missed = append(c.Missed, e.Agent)
		case OfferDeclined:
			c.Declined = append(c.Declined, e.Agent)
		case Accepted:
			first(&c.Accepted, e.At)
			if current < 0 || c.Serving[current].Agent != e.Agent {
				closeSpan(e.At)
				c.Serving = append(c.Serving, Span{Agent: e.Agent, Start: e.At})
				current = len(c.Serving) - 1
			}
			c.Agent = e.Agent
		case Transferred:
			c.Transfers++
			closeSpan(e.At)
			c.Serving = append(c.Serving, Span{Agent: e.Agent, Start: e.At})
			current = len(c.Serving) - 1
			c.Agent = e.Agent
		case Requeued:
			c.Requeues++
			closeSpan(e.At)
		case FirstResponse:
			first(&c.FirstResponse, e.At)
		case Ended:
			if first(&c.Ended, e.At) {
				c.EndedBy = e.Detail
				closeSpan(e.At)
			}
		case WrapUpEnded:
			if !c.Ended.IsZero() && c.Agent != "" && first(&c.WrapUpEnded, e.At) && e.At.After(c.Ended) {
				c.Serving = append(c.Serving, Span{Agent: c.Agent, Start: c.Ended, End: e.At})
			}
		case Abandoned:
			if first(&c.Abandoned, e.At) {
				c.AbandonReason = e.Detail
				closeSpan(e.At)
			}
		case CallStarted:
			c.CallsStarted++
		case CallAnswered:
			c.CallsAnswered++
		case OutboundOutcome:
			c.Outbound = e.Detail
		case ConsentGiven, ConsentRefused, ConsentWithdrawn:
			c.Consent = append(c.Consent, ConsentAnswer{Category: e.Detail, Outcome: e.Kind})
		case WrapUpCode:
			if c.Disposition == "" {
				c.Disposition = e.Detail
			}
		case SurveyAnswered:
			if r := surveyRating(e.Detail); c.Rating == 0 && r > 0 {
				c.Rating = r
			}
		}
	}
	return c
}

// surveyRating reads a survey entry's rating; 0 for anything but 1 to 5.
func surveyRating(detail string) int {
	if len(detail) != 1 || detail[0] < '1' || detail[0] > '5' {
		return 0
	}
	return int(detail[0] - '0')
}
