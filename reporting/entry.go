package reporting

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kind is what a contact log entry records.
type Kind string

// The kinds of contact log entries. Agent, Detail and Step mean, per kind:
const (
	// Queued: the conversation waits for an agent (once per conversation; Step is the
	// queue or workflow step, Customer the pseudonymous customer reference).
	Queued Kind = "queued"
	// Offered: offered to Agent.
	Offered Kind = "offered"
	// OfferMissed: the offer to Agent lapsed unanswered.
	OfferMissed Kind = "offer_missed"
	// OfferDeclined: Agent passed on the offer.
	OfferDeclined Kind = "offer_declined"
	// Accepted: Agent serves it from now (an accepted offer or a direct assignment).
	Accepted Kind = "accepted"
	// FirstResponse: the first message of any agent to the customer.
	FirstResponse Kind = "first_agent_response"
	// Transferred: Agent serves it from now in place of Detail (the previous agent).
	Transferred Kind = "transferred"
	// Requeued: back to waiting (Agent, who served it, no longer does).
	Requeued Kind = "requeued"
	// Ended: the conversation ended; Detail says who ended it (EndedBy*).
	Ended Kind = "ended"
	// WrapUpEnded: the after-contact work of the agent who served it last is over.
	WrapUpEnded Kind = "wrap_up_ended"
	// Abandoned: the customer left, or went silent, while no agent had accepted;
	// Detail is why ("left", "silent"). It ends the conversation.
	Abandoned Kind = "abandoned"
	// Calls: Agent is who answered.
	CallStarted  Kind = "call_started"
	CallAnswered Kind = "call_answered"
	CallEnded    Kind = "call_ended"
	// OutboundOutcome: Detail is the outbound request's final state.
	OutboundOutcome Kind = "outbound_outcome"
	// Consent answers: Detail is the category (counts only, never whose).
	ConsentGiven     Kind = "consent_given"
	ConsentRefused   Kind = "consent_refused"
	ConsentWithdrawn Kind = "consent_withdrawn"
	// AgentStatus: Agent's status became Detail (one of the Status* values). It
	// belongs to no conversation (Conversation 0).
	AgentStatus Kind = "agent_status"
	// WrapUpCode: Agent gave the wrap-up code Detail (a note is never logged).
	WrapUpCode Kind = "wrap_up_code"
	// SurveyAnswered: the customer rated the conversation Detail ("1" to "5").
	SurveyAnswered Kind = "survey_answered"
)

var kinds = map[Kind]bool{Queued: true, Offered: true, OfferMissed: true, OfferDeclined: true, Accepted: true,
	FirstResponse: true, Transferred: true, Requeued: true, Ended: true, WrapUpEnded: true, Abandoned: true,
	CallStarted: true, CallAnswered: true, CallEnded: true, OutboundOutcome: true, ConsentGiven: true,
	ConsentRefused: true, ConsentWithdrawn: true, AgentStatus: true, WrapUpCode: true, SurveyAnswered: true}

// Who ended a conversation (Detail of Ended).
const (
	EndedByCustomer = "customer"
	EndedByAgent    = "agent"
	EndedBySystem   = "system"
)

// Why a contact was abandoned (Detail of Abandoned).
const (
	AbandonLeft   = "left"
	AbandonSilent = "silent"
)

// Staff statuses (Detail of AgentStatus). A member is staffed in every status but
// away and offline.
const (
	StatusReady   = "ready"
	StatusBusy    = "busy"
	StatusAway    = "away"
	StatusOffline = "offline"
	StatusWrapUp  = "wrap_up"
	StatusOnCall  = "on_call"
)

// Staffed reports whether a staff member in the status counts as at work.
func Staffed(status string) bool {
	return status != StatusAway && status != StatusOffline && status != ""
}

// Entry is one line of the contact log.
type Entry struct {
	Tenant       string
	Conversation int64 // 0 for AgentStatus
	// OpenedAt is when the conversation opened (At for AgentStatus): reports select
	// conversations by it.
	OpenedAt time.Time
	Kind     Kind
	Detail   string
	Agent    string
	Step     string
	Customer string // pseudonymous customer reference, on Queued
	At       time.Time
	// Key identifies the cause of the entry: the same cause writes one entry, however
	// often its handler runs (see Key).
	Key string
}

// Key builds an entry's dedupe key from its conversation, kind and cause: the ID of
// the event whose handling wrote it, or for a timer the time it was due, which a
// replayed handler or another replica computes the same. An entry of no
// conversation is keyed by its agent.
func Key(conversation int64, agent string, kind Kind, cause string) string {
	if conversation == 0 {
		return "s/" + agent + "/" + string(kind) + "/" + cause
	}
	return "c/" + strconv.FormatInt(conversation, 10) + "/" + string(kind) + "/" + cause
}

// Validate reports what makes an entry unfit for the log.
func (e Entry) Validate() error {
	var errs []error
	if e.Tenant == "" {
		errs = append(errs, errors.New("no tenant"))
	}
	if !kinds[e.Kind] {
		errs = append(errs, fmt.Errorf("unknown kind %q", e.Kind))
	}
	if e.Key == "" {
		errs = append(errs, errors.New("no dedupe key"))
	}
	if e.At.IsZero() || e.OpenedAt.IsZero() {
		errs = append(errs, errors.New("no time"))
	}
	if (e.Kind == AgentStatus) != (e.Conversation == 0) {
		errs = append(errs, errors.New("staff statuses, and they alone, belong to no conversation"))
	}
	if e.Kind == AgentStatus && e.Agent == "" {
		errs = append(errs, errors.New("a staff status names no agent"))
	}
	if e.Kind != Queued && e.Customer != "" {
		errs = append(errs, errors.New("only queued entries carry the customer reference"))
	}
	return errors.Join(errs...)
}
