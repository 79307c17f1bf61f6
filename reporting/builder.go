package reporting

import (
	"cmp"
	"slices"
	"time"
)

// Folder folds a stream of log entries, ordered by conversation (as the store reads
// them: by opened time, conversation, time), into contacts; staff statuses go to
// status.
type Folder struct {
	contact func(Contact)
	status  func(Entry)
	conv    int64
	buf     []Entry
}

// NewFolder calls contact with each conversation once its entries are all seen
// (the next conversation's arrive, or Flush), and status with each staff status.
func NewFolder(contact func(Contact), status func(Entry)) *Folder {
	return &Folder{contact: contact, status: status}
}

// Add takes the next entry.
func (f *Folder) Add(e Entry) {
	if e.Kind == AgentStatus {
		if f.status != nil {
			f.status(e)
		}
		return
	}
	if len(f.buf) > 0 && e.Conversation != f.conv {
		f.Flush()
	}
	f.conv = e.Conversation
	f.buf = append(f.buf, e)
}

// Flush folds the conversation in hand.
func (f *Folder) Flush() {
	if len(f.buf) == 0 {
		return
	}
	f.contact(Fold(f.buf))
	f.buf = f.buf[:0]
}

// Builder computes a summary from a stream of entries (see Folder for the order).
type Builder struct {
	q        Query
	s        Settings
	folder   *Folder
	rows     map[string]*Row
	total    *Row
	serving  map[string][]interval // by agent, every contact read (the look-back too)
	statuses map[string][]Entry    // by agent
	seen     map[string]bool       // status keys
}

// NewBuilder starts a summary.
func NewBuilder(q Query, s Settings) *Builder {
	if s.Location == nil {
		s.Location = time.UTC
	}
	if q.Now.IsZero() || q.Now.After(q.To) {
		q.Now = q.To
	}
	b := &Builder{q: q, s: s, rows: map[string]*Row{}, total: newRow(""),
		serving: map[string][]interval{}, statuses: map[string][]Entry{}, seen: map[string]bool{}}
	b.folder = NewFolder(b.addContact, b.addStatus)
	switch q.GroupBy {
	case ByDay:
		for day := b.dayStart(q.From); day.Before(q.To); day = day.AddDate(0, 0, 1) {
			b.row(day.Format(time.DateOnly))
		}
	case ByHour:
		for hour := b.hourStart(q.From); hour.Before(q.To); hour = hour.Add(time.Hour) {
			b.row(hour.Format(time.RFC3339))
		}
	}
	return b
}

// Add takes the next entry.
func (b *Builder) Add(e Entry) { b.folder.Add(e) }

// AddContact takes a contact already folded from its entries (Fold, Folder), so that
// one pass over the log can feed several summaries, each with the contacts it wants
// (an agent's own, say).
func (b *Builder) AddContact(c Contact) { b.addContact(c) }

func (b *Builder) dayStart(t time.Time) time.Time {
	t = t.In(b.s.Location)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, b.s.Location)
}

// hourStart is the start of t's hour on the tenant's clock (a zone half an hour off
// UTC has its hours start at :30 UTC).
func (b *Builder) hourStart(t time.Time) time.Time {
	t = t.In(b.s.Location)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, b.s.Location)
}

func (b *Builder) row(group string) *Row {
	r := b.rows[group]
	if r == nil {
		r = newRow(group)
		b.rows[group] = r
	}
	return r
}

func (b *Builder) addStatus(e Entry) {
	if e.Key != "" {
		if b.seen[e.Key] {
			return
		}
		b.seen[e.Key] = true
	}
	b.statuses[e.Agent] = append(b.statuses[e.Agent], e)
}

func (b *Builder) addContact(c Contact) {
	for _, s := range c.Serving {
		end := s.End
		if end.IsZero() {
			end = b.q.Now
		}
		b.serving[s.Agent] = append(b.serving[s.Agent], interval{s.Start, end})
	}
	if c.OpenedAt.Before(b.q.From) || !c.OpenedAt.Before(b.q.To) {
		return // read for the look-back only
	}
	var group string
	switch b.q.GroupBy {
	case ByDay:
		group = c.OpenedAt.In(b.s.Location).Format(time.DateOnly)
	case ByAgent:
		group = c.Agent
	case ByStep:
		group = c.Step
	case ByHour:
		group = b.hourStart(c.OpenedAt).Format(time.RFC3339)
	}
	b.row(group).add(&c, b.s)
	b.total.add(&c, b.s)
	// Offers count for the agent offered, missed offers for the agent who missed.
	b.total.Offers += len(c.Offered)
	b.total.MissedOffers += len(c.Missed)
	for _, agent := range c.Offered {
		b.offerRow(group, agent).Offers++
	}
	for _, agent := range c.Missed {
		b.offerRow(group, agent).MissedOffers++
	}
}

func (b *Builder) offerRow(group, agent string) *Row {
	if b.q.GroupBy == ByAgent {
		return b.row(agent)
	}
	return b.row(group)
}

// Summary finishes the summary.
func (b *Builder) Summary() Summary {
	b.folder.Flush()
	b.occupancy()
	sum := Summary{From: b.q.From, To: b.q.To, GroupBy: b.q.GroupBy, Rows: make([]Row, 0, len(b.rows))}
	for _, r := range b.rows {
		r.finish(b.s)
		sum.Rows = append(sum.Rows, *r)
	}
	slices.SortFunc(sum.Rows, func(a, b Row) int { return cmp.Compare(a.Group, b.Group) })
	b.total.finish(b.s)
	sum.Total = *b.total
	return sum
}

// occupancy adds each staff member's handling and staffed time in the period to
// the total and to their day's or their own row.
func (b *Builder) occupancy() {
	b.total.acc.occupancy = true
	end := b.q.Now
	for agent, statuses := range b.statuses {
		slices.SortStableFunc(statuses, func(x, y Entry) int { return x.At.Compare(y.At) })
		staffed := staffedIntervals(statuses, end)
		handling := intersect(union(b.serving[agent]), staffed)
		b.total.acc.staffed += within(staffed, b.q.From, end)
		b.total.acc.handling += within(handling, b.q.From, end)
		switch b.q.GroupBy {
		case ByAgent:
			if d := within(staffed, b.q.From, end); d > 0 {
				r := b.row(agent)
				r.acc.occupancy = true
				r.acc.staffed += d
				r.acc.handling += within(handling, b.q.From, end)
			}
		case ByDay:
			for day := b.dayStart(b.q.From); day.Before(end); day = day.AddDate(0, 0, 1) {
				from, to := later(day, b.q.From), earlier(day.AddDate(0, 0, 1), end)
				r := b.row(day.Format(time.DateOnly))
				r.acc.occupancy = true
				r.acc.staffed += within(staffed, from, to)
				r.acc.handling += within(handling, from, to)
			}
		}
	}
}
