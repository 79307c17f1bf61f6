package consent

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/consent/internal/store"
)

// Decision is what a consent record says.
type Decision string

const (
	Given     Decision = "given"
	Refused   Decision = "refused"
	Withdrawn Decision = "withdrawn"
)

// Method is how the customer expressed a decision.
type Method string

const (
	MethodPoll     Method = "poll"
	MethodReaction Method = "reaction"
	MethodText     Method = "text"
	// MethodPolicy: the customer's remembered choice applied to a new conversation.
	MethodPolicy Method = "policy"
	// MethodTimeout: nobody answered the prompt; treated as refused.
	MethodTimeout Method = "timeout"
)

// Subject is a customer at one tenant: consent is given to a controller (the tenant)
// by a subject (the customer's Matrix ID), never across tenants.
type Subject struct {
	Tenant string
	UserID string
}

// Record is one consent decision: the fields of a Kantara consent receipt / ISO/IEC
// TS 27560 record. Records are never changed or deleted.
type Record struct {
	ReceiptID    string    `json:"receipt_id"`
	Controller   string    `json:"controller"`
	Subject      string    `json:"subject"`
	Category     Category  `json:"category"`
	Purpose      string    `json:"purpose"`
	Decision     Decision  `json:"decision"`
	Method       Method    `json:"method"`
	Conversation int64     `json:"conversation,omitempty"`
	At           time.Time `json:"timestamp"`
	Expires      time.Time `json:"expiry,omitzero"`
}

// Ledger is the consent book of every tenant: records, policies, the gate over the
// customer context, and its access log.
type Ledger struct {
	st  *store.Store
	now func() time.Time
}

// NewLedger keeps its tables in the service's database under their own version table;
// call Upgrade before use.
func NewLedger(db *dbutil.Database) *Ledger {
	return &Ledger{st: store.New(db), now: func() time.Time { return time.Now().UTC() }}
}

// Upgrade creates or updates the consent tables.
func (l *Ledger) Upgrade(ctx context.Context) error { return l.st.Upgrade(ctx) }

// Change is a wanted state for one category.
type Change struct {
	Category Category
	Grant    bool
}

// Decide records the customer's answer for a conversation. Only categories whose
// state changes get a record: granting what is granted adds nothing, refusing what
// was granted is a withdrawal. purposes names each category's purpose text. With
// remember, the answer also becomes the customer's policy (always or never).
func (l *Ledger) Decide(ctx context.Context, s Subject, conversation int64, method Method, purposes map[Category]string, changes []Change, remember bool) ([]Record, error) {
	var out []Record
	err := l.st.Txn(ctx, func(ctx context.Context) error {
		state, err := l.State(ctx, s, conversation)
		if err != nil {
			return err
		}
		policies, err := l.Policies(ctx, s)
		if err != nil {
			return err
		}
		now := l.now()
		for _, c := range changes {
			if policy := newPolicy(policies[c.Category], c.Grant, remember); policy != policies[c.Category] {
				if err = l.st.Policies.Set(ctx, s.Tenant, s.UserID, string(c.Category), string(policy), now.UnixMilli()); err != nil {
					return err
				}
			}
			decision, changed := next(state[c.Category], c.Grant)
			if !changed {
				continue
			}
			purpose, ok := purposes[c.Category]
			if !ok {
				return fmt.Errorf("category %q has no purpose at tenant %s", c.Category, s.Tenant)
			}
			r := Record{ReceiptID: uuid.NewString(), Controller: s.Tenant, Subject: s.UserID, Category: c.Category,
				Purpose: purpose, Decision: decision, Method: method, Conversation: conversation, At: now}
			if err = l.st.Records.Append(ctx, toRow(r)); err != nil {
				return err
			}
			if decision == Withdrawn && c.Category == Location {
				// Withdrawing location also forgets where the customer was.
				if err = l.st.Locations.Delete(ctx, s.Tenant, s.UserID); err != nil {
					return err
				}
			}
			state[c.Category] = decision
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// newPolicy is the standing choice after an answer: remembered answers become
// always or never; an answer against a standing choice without "remember" drops it
// back to ask, so the next conversation asks instead of applying a stale choice.
func newPolicy(current Policy, grant, remember bool) Policy {
	switch {
	case remember && grant:
		return Always
	case remember:
		return Never
	case current == Always && !grant, current == Never && grant:
		return Ask
	}
	return current
}

// next is the state machine of one category: "" (never decided) → given or refused;
// given → withdrawn; refused or withdrawn → given.
func next(current Decision, grant bool) (Decision, bool) {
	switch {
	case grant && current != Given:
		return Given, true
	case !grant && current == Given:
		return Withdrawn, true
	case !grant && current == "":
		return Refused, true
	}
	return current, false
}

// State returns the current decision per category in a conversation; a category
// never decided there is absent, and an expired grant counts as refused.
func (l *Ledger) State(ctx context.Context, s Subject, conversation int64) (map[Category]Decision, error) {
	rows, err := l.st.Records.State(ctx, s.Tenant, s.UserID, conversation)
	if err != nil {
		return nil, err
	}
	now := l.now()
	out := make(map[Category]Decision, len(rows))
	for _, r := range rows {
		d := Decision(r.Decision)
		if d == Given && !r.Expires.IsZero() && !now.Before(r.Expires) {
			d = Refused
		}
		out[Category(r.Category)] = d
	}
	return out, nil
}

// Policies returns the customer's standing choices; categories absent are Ask.
func (l *Ledger) Policies(ctx context.Context, s Subject) (map[Category]Policy, error) {
	rows, err := l.st.Policies.Get(ctx, s.Tenant, s.UserID)
	if err != nil {
		return nil, err
	}
	out := make(map[Category]Policy, len(rows))
	for c, p := range rows {
		out[Category(c)] = Policy(p)
	}
	return out, nil
}

// SetPolicy changes a standing choice (Ask forgets it).
func (l *Ledger) SetPolicy(ctx context.Context, s Subject, c Category, p Policy) error {
	return l.st.Policies.Set(ctx, s.Tenant, s.UserID, string(c), string(p), l.now().UnixMilli())
}

// Records returns every consent record of the customer at the tenant, oldest first.
func (l *Ledger) Records(ctx context.Context, s Subject) ([]Record, error) {
	rows, err := l.st.Records.OfSubject(ctx, s.Tenant, s.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = Record{ReceiptID: r.ReceiptID, Controller: r.TenantID, Subject: r.Subject, Category: Category(r.Category),
			Purpose: r.Purpose, Decision: Decision(r.Decision), Method: Method(r.Method), Conversation: r.Conversation,
			At: r.At, Expires: r.Expires}
	}
	return out, nil
}

func toRow(r Record) *store.Record {
	return &store.Record{ReceiptID: r.ReceiptID, TenantID: r.Controller, Subject: r.Subject, Category: string(r.Category),
		Purpose: r.Purpose, Decision: string(r.Decision), Method: string(r.Method), Conversation: r.Conversation,
		At: r.At, Expires: r.Expires}
}
