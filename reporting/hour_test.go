package reporting

import (
	"testing"
	"time"
)

// The chart's hours: contacts count in the hour of their opening on the tenant's
// clock (Kolkata is UTC+5:30, so its hours start at :30 UTC), every hour of the period
// has a row, empty or not, and an agent's own hours come from their contacts alone.
func TestHourlyRows(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	s := Settings{Location: loc, ServiceLevelThreshold: 20 * time.Second}
	at := func(h, m int) time.Time { return time.Date(2025, 3, 4, h, m, 0, 0, loc) }
	contact := func(conv int64, opened time.Time, agent string, accepted, abandoned time.Duration) []Entry {
		e := []Entry{{Tenant: "acme", Conversation: conv, OpenedAt: opened, Kind: Queued, At: opened, Key: Key(conv, "", Queued, "s")}}
		if accepted > 0 {
			e = append(e, Entry{Tenant: "acme", Conversation: conv, OpenedAt: opened, Kind: Accepted, Agent: agent, At: opened.Add(accepted), Key: Key(conv, agent, Accepted, "a")})
		}
		if abandoned > 0 {
			e = append(e, Entry{Tenant: "acme", Conversation: conv, OpenedAt: opened, Kind: Abandoned, Detail: AbandonLeft, At: opened.Add(abandoned), Key: Key(conv, "", Abandoned, "x")})
		}
		return e
	}
	var entries []Entry
	entries = append(entries, contact(1, at(9, 59), "@carol:x", 10*time.Second, 0)...)  // hour 9
	entries = append(entries, contact(2, at(10, 0), "@carol:x", 30*time.Second, 0)...)  // hour 10
	entries = append(entries, contact(3, at(10, 45), "@dave:x", 5*time.Second, 0)...)   // hour 10
	entries = append(entries, contact(4, at(10, 50), "", 0, 2*time.Minute)...)          // hour 10, abandoned
	entries = append(entries, contact(5, at(12, 10), "@carol:x", 15*time.Second, 0)...) // hour 12
	entries = append(entries, contact(6, at(8, 30), "@carol:x", 15*time.Second, 0)...)  // before the period
	q := Query{From: at(9, 0), To: at(13, 0), Now: at(12, 30), GroupBy: ByHour}

	sum := Summarize(entries, q, s)
	want := map[string][3]int{ // queued, handled, abandoned
		"2025-03-04T09:00:00+05:30": {1, 1, 0},
		"2025-03-04T10:00:00+05:30": {3, 2, 1},
		"2025-03-04T11:00:00+05:30": {0, 0, 0},
		"2025-03-04T12:00:00+05:30": {1, 1, 0},
	}
	if len(sum.Rows) != len(want) {
		t.Fatalf("rows %d, want %d: %+v", len(sum.Rows), len(want), sum.Rows)
	}
	for _, r := range sum.Rows {
		w, ok := want[r.Group]
		if !ok || [3]int{r.Queued, r.Handled, r.Abandoned} != w {
			t.Errorf("hour %s: queued %d handled %d abandoned %d, want %v", r.Group, r.Queued, r.Handled, r.Abandoned, w)
		}
	}
	if start, err := time.Parse(time.RFC3339, sum.Rows[1].Group); err != nil || start.UTC() != time.Date(2025, 3, 4, 4, 30, 0, 0, time.UTC) {
		t.Errorf("hour 10 in Kolkata starts at %v (%v), want 04:30 UTC", start, err)
	}
	if sum.Total.Queued != 5 || sum.Total.Handled != 4 || sum.Total.ServiceLevel == nil || *sum.Total.ServiceLevel != 3.0/4 {
		t.Errorf("total: %+v", sum.Total)
	}

	// Carol's own hours, fed with her contacts folded once.
	carol := NewBuilder(q, s)
	folder := NewFolder(func(c Contact) {
		if c.Agent == "@carol:x" {
			carol.AddContact(c)
		}
	}, nil)
	for _, e := range entries {
		folder.Add(e)
	}
	folder.Flush()
	own := carol.Summary()
	for _, r := range own.Rows {
		n := map[string]int{"2025-03-04T09:00:00+05:30": 1, "2025-03-04T10:00:00+05:30": 1, "2025-03-04T12:00:00+05:30": 1}[r.Group]
		if r.Handled != n || r.Queued != n {
			t.Errorf("Carol's hour %s: %+v, want %d", r.Group, r, n)
		}
	}
}
