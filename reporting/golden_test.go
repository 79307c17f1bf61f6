package reporting_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/reporting/reportingtest"
)

// TestGoldenDay: the scripted day's summary equals the hand-computed figures for
// every grouping and both service-level settings, whatever order the log is read in.
func TestGoldenDay(t *testing.T) {
	entries := reportingtest.Entries()
	for _, groupBy := range []reporting.GroupBy{reporting.ByDay, reporting.ByAgent, reporting.ByStep} {
		for _, abandonsCount := range []bool{true, false} {
			settings := reportingtest.Settings()
			settings.AbandonsCount = abandonsCount
			rows, total := reportingtest.Expected(groupBy, abandonsCount)
			shuffled := slices.Clone(entries)
			rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got := reporting.Summarize(shuffled, reportingtest.Period(groupBy), settings)
			for _, d := range reportingtest.Diff(got, rows, total) {
				t.Errorf("%s, abandons count %v: %s", groupBy, abandonsCount, d)
			}
		}
	}
}

// TestGoldenNextDay: a conversation of the night before counts in the next day's
// occupancy, not as the next day's contact.
func TestGoldenNextDay(t *testing.T) {
	q, rows, total := reportingtest.Day15()
	got := reporting.Summarize(reportingtest.Entries(), q, reportingtest.Settings())
	for _, d := range reportingtest.Diff(got, rows, total) {
		t.Error(d)
	}
}

// TestTodaySoFar: "today" is the tenant's day, counted until now: at 10:30 in
// Berlin, the two conversations of the morning, and occupancy until 10:30 only.
func TestTodaySoFar(t *testing.T) {
	q := reporting.Today(reportingtest.At(0, 10, 30, 0).UTC(), reportingtest.Settings())
	if !q.From.Equal(reportingtest.At(0, 0, 0, 0)) || !q.To.Equal(reportingtest.At(1, 0, 0, 0)) {
		t.Fatalf("today = %v .. %v", q.From, q.To)
	}
	var early []reporting.Entry
	for _, e := range reportingtest.Entries() {
		if !e.At.After(q.Now) {
			early = append(early, e)
		}
	}
	got := reporting.Summarize(early, q, reportingtest.Settings()).Total
	// Carol staffed 08:30-10:30 (7200 s), Dave 09:30-10:30 (3600 s), Erin
	// 00:00-10:30 (37800 s); served: Carol 660 + 300 s, Dave none, Erin 630 s.
	if got.Queued != 2 || got.Handled != 2 || got.ServiceLevel == nil || *got.ServiceLevel != 0.5 ||
		got.Occupancy == nil || *got.Occupancy != float64(660+300+630)/float64(7200+3600+37800) {
		t.Fatalf("today so far: queued %d handled %d service level %v occupancy %v", got.Queued, got.Handled,
			show(got.ServiceLevel), show(got.Occupancy))
	}
}

func show(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
