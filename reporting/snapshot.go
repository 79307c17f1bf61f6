package reporting

import "time"

// Snapshot is a tenant's contact center at one moment, for the live dashboard and
// the gauges. The service fills it from its live state (conversations, offers,
// staff) and today's summary from the log.
type Snapshot struct {
	Tenant string    `json:"tenant"`
	At     time.Time `json:"at"`
	// Queues are the contacts waiting per step; Waiting and OldestWait over all.
	Queues     []QueueNow    `json:"queues"`
	Waiting    int           `json:"waiting"`
	OldestWait time.Duration `json:"oldest_wait"`
	// OffersOpen are offers not answered yet.
	OffersOpen int `json:"offers_open"`
	// Agents are the staff with their status and load against capacity;
	// AgentsByStatus counts them (ready, busy, away, offline, wrap_up, on_call).
	Agents         []AgentNow     `json:"agents"`
	AgentsByStatus map[string]int `json:"agents_by_status"`
	// Today is the summary from midnight in the tenant's time zone until At
	// (service level today so far: Today.ServiceLevel).
	Today Row `json:"today"`
}

// QueueNow is a step's waiting contacts.
type QueueNow struct {
	Step       string        `json:"step"`
	Waiting    int           `json:"waiting"`
	OldestWait time.Duration `json:"oldest_wait"`
}

// AgentNow is a staff member's status and load.
type AgentNow struct {
	UserID   string `json:"user_id"`
	Status   string `json:"status"`
	Load     int    `json:"load"`
	Capacity int    `json:"capacity"`
}

// Today is the query of the summary behind Snapshot.Today: from midnight of now's
// day in the tenant's time zone until now.
func Today(now time.Time, s Settings) Query {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return Query{From: midnight, To: midnight.AddDate(0, 0, 1), Now: now, GroupBy: ByDay}
}
