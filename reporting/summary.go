package reporting

import (
	"cmp"
	"slices"
	"time"
)

// Settings are a tenant's report settings.
type Settings struct {
	// Location is the tenant's time zone: days begin at its midnight.
	Location *time.Location
	// ShortAbandon: a contact abandoned sooner than this after it was queued is a
	// short abandon.
	ShortAbandon time.Duration
	// ServiceLevelThreshold is X in "accepted within X"; ServiceLevelTarget the share
	// (0..1) the tenant aims for.
	ServiceLevelThreshold time.Duration
	ServiceLevelTarget    float64
	// AbandonsCount: abandoned contacts stay in the service level's denominator.
	AbandonsCount bool
}

// GroupBy is how a summary's rows are cut.
type GroupBy string

const (
	ByDay   GroupBy = "day"
	ByAgent GroupBy = "agent"
	ByStep  GroupBy = "step"
	// ByHour cuts the period into hours of the tenant's clock, for the dashboard's
	// chart; a row's group is its hour's start in RFC 3339. Occupancy is left to the
	// total.
	ByHour GroupBy = "hour"
)

// Query is a summary's period, [From, To), and grouping. Now bounds the times of
// things still going on (a conversation being served, a status not yet changed).
type Query struct {
	From, To, Now time.Time
	GroupBy       GroupBy
}

// Lookback is how long before a period the log is read for conversations still
// being served when it begins (their time counts in the period's occupancy).
const Lookback = 24 * time.Hour

// Summary is a period's figures: one row per group, and the whole period.
type Summary struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	GroupBy GroupBy   `json:"group_by"`
	Rows    []Row     `json:"rows"`
	Total   Row       `json:"total"`
}

// Row is one group's figures (see the package documentation for each formula).
// Means and rates are null when they have no samples.
type Row struct {
	Group                      string                   `json:"group"`
	Queued                     int                      `json:"queued"`
	Handled                    int                      `json:"handled"`
	Abandoned                  int                      `json:"abandoned"`
	ShortAbandoned             int                      `json:"short_abandoned"`
	Offers                     int                      `json:"offers"`
	MissedOffers               int                      `json:"missed_offers"`
	DeclinedOffers             int                      `json:"declined_offers"`
	Transfers                  int                      `json:"transfers"`
	EndedBy                    map[string]int           `json:"ended_by"`
	CallsStarted               int                      `json:"calls_started"`
	CallsAnswered              int                      `json:"calls_answered"`
	Outbound                   map[string]int           `json:"outbound"`
	ASA                        *float64                 `json:"asa_seconds"`
	FirstResponse              *float64                 `json:"first_response_seconds"`
	AHT                        *float64                 `json:"aht_seconds"`
	AbandonmentRate            *float64                 `json:"abandonment_rate"`
	AbandonmentRateExcludShort *float64                 `json:"abandonment_rate_excluding_short"`
	ServiceLevel               *float64                 `json:"service_level"`
	ServiceLevelMet            *bool                    `json:"service_level_met"`
	Occupancy                  *float64                 `json:"occupancy"`
	Consent                    map[string]ConsentCounts `json:"consent"`
	// Dispositions count the wrap-up codes given; Surveys the customers' ratings.
	Dispositions map[string]int `json:"dispositions"`
	Surveys      SurveyCounts   `json:"surveys"`

	acc accumulator
}

// SurveyCounts are the satisfaction surveys answered: how many, each rating's count
// ("1" to "5") and the mean rating (null without answers).
type SurveyCounts struct {
	Answered int            `json:"answered"`
	Ratings  map[string]int `json:"ratings"`
	Mean     *float64       `json:"mean"`
}

// ConsentCounts are a category's answers.
type ConsentCounts struct {
	Given     int `json:"given"`
	Refused   int `json:"refused"`
	Withdrawn int `json:"withdrawn"`
}

// accumulator holds sums in milliseconds, so that means are exact until the last
// division.
type accumulator struct {
	asaSum, asaN, frtSum, frtN, ahtSum, ahtN int64
	withinSL                                 int
	ratingSum                                int64
	handling, staffed                        time.Duration
	occupancy                                bool
}

func newRow(group string) *Row {
	return &Row{Group: group, EndedBy: map[string]int{}, Outbound: map[string]int{}, Consent: map[string]ConsentCounts{},
		Dispositions: map[string]int{}, Surveys: SurveyCounts{Ratings: map[string]int{}}}
}

// add counts a contact of the period in the row.
func (r *Row) add(c *Contact, s Settings) {
	if c.Queued.IsZero() {
		if c.Outbound != "" {
			r.Outbound[c.Outbound]++
		}
		r.addAnswers(c)
		return
	}
	r.Queued++
	if !c.Accepted.IsZero() {
		r.Handled++
		wait := c.Accepted.Sub(c.Queued)
		r.acc.asaSum += wait.Milliseconds()
		r.acc.asaN++
		if wait <= s.ServiceLevelThreshold {
			r.acc.withinSL++
		}
	}
	if !c.FirstResponse.IsZero() {
		r.acc.frtSum += c.FirstResponse.Sub(c.Queued).Milliseconds()
		r.acc.frtN++
	}
	if d, ok := c.Handle(); ok {
		r.acc.ahtSum += d.Milliseconds()
		r.acc.ahtN++
	}
	if c.IsAbandoned() {
		r.Abandoned++
		if c.IsShortAbandon(s.ShortAbandon) {
			r.ShortAbandoned++
		}
	}
	if !c.Ended.IsZero() && c.EndedBy != "" && c.Abandoned.IsZero() {
		r.EndedBy[c.EndedBy]++
	}
	r.Transfers += c.Transfers
	if c.Outbound != "" {
		r.Outbound[c.Outbound]++
	}
	r.addAnswers(c)
}

func (r *Row) addAnswers(c *Contact) {
	r.CallsStarted += c.CallsStarted
	r.CallsAnswered += c.CallsAnswered
	r.DeclinedOffers += len(c.Declined)
	if c.Disposition != "" {
		r.Dispositions[c.Disposition]++
	}
	if c.Rating > 0 {
		r.Surveys.Answered++
		r.Surveys.Ratings[string(rune('0'+c.Rating))]++
		r.acc.ratingSum += int64(c.Rating)
	}
	for _, a := range c.Consent {
		n := r.Consent[a.Category]
		switch a.Outcome {
		case ConsentGiven:
			n.Given++
		case ConsentRefused:
			n.Refused++
		case ConsentWithdrawn:
			n.Withdrawn++
		}
		r.Consent[a.Category] = n
	}
}

// finish turns the sums into the row's means and rates.
func (r *Row) finish(s Settings) {
	r.ASA = mean(r.acc.asaSum, r.acc.asaN)
	r.FirstResponse = mean(r.acc.frtSum, r.acc.frtN)
	r.AHT = mean(r.acc.ahtSum, r.acc.ahtN)
	if r.Surveys.Answered > 0 {
		m := float64(r.acc.ratingSum) / float64(r.Surveys.Answered)
		r.Surveys.Mean = &m
	}
	r.AbandonmentRate = ratio(float64(r.Abandoned), float64(r.Queued))
	r.AbandonmentRateExcludShort = ratio(float64(r.Abandoned-r.ShortAbandoned), float64(r.Queued-r.ShortAbandoned))
	denominator := r.Queued
	if !s.AbandonsCount {
		denominator -= r.Abandoned
	}
	if r.ServiceLevel = ratio(float64(r.acc.withinSL), float64(denominator)); r.ServiceLevel != nil {
		met := *r.ServiceLevel >= s.ServiceLevelTarget
		r.ServiceLevelMet = &met
	}
	if r.acc.occupancy {
		r.Occupancy = ratio(r.acc.handling.Seconds(), r.acc.staffed.Seconds())
	}
}

func mean(sumMillis, n int64) *float64 {
	if n == 0 {
		return nil
	}
	v := float64(sumMillis) / float64(n) / 1000
	return &v
}

func ratio(a, b float64) *float64 {
	if b <= 0 {
		return nil
	}
	v := a / b
	return &v
}

// Summarize computes a period's summary from log entries in any order: those of
// the conversations opened in [From-Lookback, To) and the staff statuses up to To,
// each staff member's last one before the period included.
func Summarize(entries []Entry, q Query, s Settings) Summary {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b Entry) int {
		return cmp.Or(a.OpenedAt.Compare(b.OpenedAt), cmp.Compare(a.Conversation, b.Conversation), a.At.Compare(b.At))
	})
	b := NewBuilder(q, s)
	for _, e := range sorted {
		b.Add(e)
	}
	return b.Summary()
}
