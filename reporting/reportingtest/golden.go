// Package reportingtest holds the golden day: a scripted day of a tenant's contact
// log with every figure computed by hand, for the formulas (reporting) and the store
// (database) alike.
package reportingtest

import (
	"strconv"
	"time"
	_ "time/tzdata" // Europe/Berlin on systems without a zone database

	"github.com/contactcenter/contactcenter/reporting"
)

// Tenant is the golden day's tenant; Carol, Dave and Erin its agents.
const (
	Tenant = "acme"
	Carol  = "@carol:biz.example"
	Dave   = "@dave:biz.example"
	Erin   = "@erin:biz.example"
)

// Berlin is the tenant's time zone.
var Berlin = mustLocation("Europe/Berlin")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// At is a time on 14 March 2025 in Berlin, plus days.
func At(days, hour, minute, second int) time.Time {
	return time.Date(2025, time.March, 14+days, hour, minute, second, 0, Berlin)
}

// Settings: short abandons under 5 s, service level 80 % within 30 s, abandons count.
func Settings() reporting.Settings {
	return reporting.Settings{Location: Berlin, ShortAbandon: 5 * time.Second,
		ServiceLevelThreshold: 30 * time.Second, ServiceLevelTarget: 0.8, AbandonsCount: true}
}

// Period is the golden report's period: 14 and 15 March in Berlin; Now is after it.
func Period(groupBy reporting.GroupBy) reporting.Query {
	return reporting.Query{From: At(0, 0, 0, 0), To: At(2, 0, 0, 0), Now: At(2, 12, 0, 0), GroupBy: groupBy}
}

// script writes one conversation's entries, keyed by the order of their causes.
type script struct {
	conv    int64
	opened  time.Time
	entries []reporting.Entry
	n       int
}

func conversation(conv int64, opened time.Time) *script { return &script{conv: conv, opened: opened} }

func (s *script) add(kind reporting.Kind, at time.Time, agent, detail string) *script {
	s.n++
	s.entries = append(s.entries, reporting.Entry{Tenant: Tenant, Conversation: s.conv, OpenedAt: s.opened, Kind: kind,
		Agent: agent, Detail: detail, At: at, Key: reporting.Key(s.conv, agent, kind, "$ev"+strconv.Itoa(s.n))})
	return s
}

func (s *script) queued(at time.Time, step string) *script {
	s.add(reporting.Queued, at, "", "")
	s.entries[len(s.entries)-1].Step = step
	s.entries[len(s.entries)-1].Customer = "Visitor " + strconv.FormatInt(s.conv, 16)
	return s
}

// replay writes again, at a later time, the entries from index i to j: the handler
// of their causes ran again (a replica restarted mid-conversation).
func (s *script) replay(i, j int, later time.Duration) *script {
	for _, e := range s.entries[i:j] {
		e.At = e.At.Add(later)
		s.entries = append(s.entries, e)
	}
	return s
}

func status(agent, st string, at time.Time) reporting.Entry {
	return reporting.Entry{Tenant: Tenant, OpenedAt: at, Kind: reporting.AgentStatus, Agent: agent, Detail: st, At: at,
		Key: reporting.Key(0, agent, reporting.AgentStatus, strconv.FormatInt(at.UnixMilli(), 10))}
}

// Entries is the golden log, in the order it was written.
func Entries() []reporting.Entry {
	var out []reporting.Entry
	out = append(out,
		status(Carol, reporting.StatusReady, At(-2, 9, 0, 0)),
		status(Carol, reporting.StatusOffline, At(-2, 20, 0, 0)),
		status(Erin, reporting.StatusReady, At(-2, 8, 0, 0)),
		status(Carol, reporting.StatusReady, At(0, 8, 30, 0)),
		status(Dave, reporting.StatusReady, At(0, 9, 30, 0)),
		status(Carol, reporting.StatusAway, At(0, 12, 30, 0)),
		status(Carol, reporting.StatusReady, At(0, 13, 30, 0)),
		status(Carol, reporting.StatusOffline, At(0, 18, 0, 0)),
		status(Dave, reporting.StatusOffline, At(1, 0, 30, 0)),
		status(Erin, reporting.StatusOffline, At(1, 1, 0, 0)),
	)
	// Before the period: counts for Erin's occupancy on the 14th (00:00-00:10:30), not
	// as a contact.
	c100 := conversation(100, At(-1, 23, 50, 0)).queued(At(-1, 23, 50, 0), "support").
		add(reporting.Accepted, At(-1, 23, 50, 30), Erin, "").
		add(reporting.Ended, At(0, 0, 10, 30), "", reporting.EndedByAgent)
	// ASA 20, first response 50, handled 600 + wrap-up 60; consent answers; a call.
	c101 := conversation(101, At(0, 9, 0, 0)).queued(At(0, 9, 0, 0), "support").
		add(reporting.ConsentGiven, At(0, 9, 0, 1), "", "location").
		add(reporting.ConsentGiven, At(0, 9, 0, 1), "", "history").
		add(reporting.Offered, At(0, 9, 0, 5), Carol, "").
		add(reporting.Accepted, At(0, 9, 0, 20), Carol, "").
		add(reporting.FirstResponse, At(0, 9, 0, 50), Carol, "").
		add(reporting.CallStarted, At(0, 9, 5, 0), "", "").
		add(reporting.CallAnswered, At(0, 9, 5, 5), Carol, "").
		add(reporting.CallEnded, At(0, 9, 7, 0), "", "").
		add(reporting.Ended, At(0, 9, 10, 20), Carol, reporting.EndedByAgent).
		add(reporting.WrapUpEnded, At(0, 9, 11, 20), Carol, "")
	// Dave misses the offer; Carol accepts after 45 s (outside the service level).
	c102 := conversation(102, At(0, 10, 0, 0)).queued(At(0, 10, 0, 0), "support").
		add(reporting.Offered, At(0, 10, 0, 2), Dave, "").
		add(reporting.ConsentRefused, At(0, 10, 0, 10), "", "location").
		add(reporting.OfferMissed, At(0, 10, 0, 32), Dave, "").
		add(reporting.Offered, At(0, 10, 0, 33), Carol, "").
		add(reporting.Accepted, At(0, 10, 0, 45), Carol, "").
		add(reporting.FirstResponse, At(0, 10, 1, 0), Carol, "").
		add(reporting.Ended, At(0, 10, 5, 45), "", reporting.EndedByCustomer)
	// A transfer: Carol 180 s, Dave 300 s + wrap-up 30 s; Dave serves it last.
	c103 := conversation(103, At(0, 11, 0, 0)).queued(At(0, 11, 0, 0), "support").
		add(reporting.Offered, At(0, 11, 0, 1), Carol, "").
		add(reporting.Accepted, At(0, 11, 0, 10), Carol, "").
		add(reporting.FirstResponse, At(0, 11, 0, 20), Carol, "").
		add(reporting.Transferred, At(0, 11, 3, 10), Dave, Carol).
		add(reporting.Ended, At(0, 11, 8, 10), Dave, reporting.EndedByAgent).
		add(reporting.WrapUpEnded, At(0, 11, 8, 40), Dave, "")
	// Abandoned after 3 s: a short abandon.
	c104 := conversation(104, At(0, 12, 0, 0)).queued(At(0, 12, 0, 0), "sales").
		add(reporting.Abandoned, At(0, 12, 0, 3), "", "left")
	// Declined, then abandoned after 120 s.
	c105 := conversation(105, At(0, 13, 40, 0)).queued(At(0, 13, 40, 0), "support").
		add(reporting.Offered, At(0, 13, 40, 5), Carol, "").
		add(reporting.OfferDeclined, At(0, 13, 40, 15), Carol, "").
		add(reporting.Abandoned, At(0, 13, 42, 0), "", "silent")
	// Across midnight: counts on the 14th; Dave's time splits 95 s / 265 s.
	c106 := conversation(106, At(0, 23, 58, 0)).queued(At(0, 23, 58, 0), "support").
		add(reporting.Accepted, At(0, 23, 58, 25), Dave, "").
		add(reporting.FirstResponse, At(0, 23, 59, 0), Dave, "").
		add(reporting.Ended, At(1, 0, 4, 25), "", reporting.EndedBySystem)
	// A replica restarts after the consent answer: the handlers of the entries so far
	// run again five minutes later, writing the same keys, which count once.
	c107 := conversation(107, At(0, 14, 0, 0)).queued(At(0, 14, 0, 0), "support").
		add(reporting.Offered, At(0, 14, 0, 10), Carol, "").
		add(reporting.Accepted, At(0, 14, 0, 40), Carol, "").
		add(reporting.FirstResponse, At(0, 14, 1, 0), Carol, "").
		add(reporting.ConsentWithdrawn, At(0, 14, 10, 0), "", "location").
		replay(0, 5, 5*time.Minute).
		add(reporting.Ended, At(0, 14, 20, 40), "", reporting.EndedByCustomer)
	// Requeued: Dave 60 s, waiting 60 s, Carol 180 s; Carol serves it last.
	c108 := conversation(108, At(0, 15, 0, 0)).queued(At(0, 15, 0, 0), "sales").
		add(reporting.Accepted, At(0, 15, 0, 15), Dave, "").
		add(reporting.FirstResponse, At(0, 15, 0, 30), Dave, "").
		add(reporting.Requeued, At(0, 15, 1, 15), Dave, "").
		add(reporting.Accepted, At(0, 15, 2, 15), Carol, "").
		add(reporting.Ended, At(0, 15, 5, 15), Carol, reporting.EndedByAgent)
	// An outbound contact the customer declined: never queued.
	c109 := conversation(109, At(0, 16, 0, 0)).
		add(reporting.OutboundOutcome, At(0, 16, 0, 30), "", "declined")
	for _, c := range []*script{c100, c101, c102, c103, c104, c105, c106, c107, c108, c109} {
		out = append(out, c.entries...)
	}
	return out
}
