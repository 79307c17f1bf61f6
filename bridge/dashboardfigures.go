package bridge

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/contactcenter/contactcenter/dashboard"
	"github.com/contactcenter/contactcenter/reporting"
)

// logFigures are the dashboard's figures from the contact log: today's and the last
// hours', for the team and for each agent. The formulas are reporting's; the
// dashboard shows them as they come.
type logFigures struct {
	today      dashboard.Figures
	history    []dashboard.Bucket
	agentToday map[string]dashboard.Figures
	agentHours map[string][]dashboard.Bucket
}

// readLog computes the tenant's log figures with one pass over the log: the entries
// of the conversations opened since midnight or since the chart's first hour, whichever
// is earlier, folded into contacts once and summarized by agent for today, by hour for
// the team, and by hour for each agent over the contacts they served.
func (s *dashboardSource) readLog(ctx context.Context, tenantID string, now time.Time) (*logFigures, error) {
	t := s.b.TenantByID(tenantID)
	if t == nil {
		return nil, fmt.Errorf("no tenant %q", tenantID)
	}
	settings, err := t.ReportSettings()
	if err != nil {
		return nil, err
	}
	if settings.Location == nil {
		settings.Location = time.UTC
	}
	today := reporting.Today(now, settings)
	today.GroupBy = reporting.ByAgent
	local := now.In(settings.Location)
	thisHour := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), 0, 0, 0, settings.Location)
	hours := reporting.Query{From: thisHour.Add(-(historyHours - 1) * time.Hour), To: thisHour.Add(time.Hour), Now: now, GroupBy: reporting.ByHour}

	byAgent := reporting.NewBuilder(today, settings)
	team := reporting.NewBuilder(hours, settings)
	agentHours := map[string]*reporting.Builder{}
	folder := reporting.NewFolder(func(c reporting.Contact) {
		byAgent.AddContact(c)
		team.AddContact(c)
		if c.Agent == "" {
			return
		}
		b := agentHours[c.Agent]
		if b == nil {
			b = reporting.NewBuilder(hours, settings)
			agentHours[c.Agent] = b
		}
		b.AddContact(c)
	}, nil)
	// No look-back: the figures shown need no time served before the period
	// (occupancy is the reports').
	from, to := earliest(today.From, hours.From), latest(today.To, hours.To)
	if err = s.b.DB.ContactLog.EachForReport(ctx, tenantID, from, to, 0, func(e reporting.Entry) error {
		folder.Add(e)
		return nil
	}); err != nil {
		return nil, err
	}
	folder.Flush()

	f := &logFigures{agentToday: map[string]dashboard.Figures{}, agentHours: map[string][]dashboard.Bucket{}}
	sum := byAgent.Summary()
	f.today = figuresOf(sum.Total, settings)
	for _, row := range sum.Rows {
		if row.Group != "" {
			f.agentToday[row.Group] = figuresOf(row, settings)
		}
	}
	f.history = bucketsOf(team.Summary())
	for agent, b := range agentHours {
		f.agentHours[agent] = bucketsOf(b.Summary())
	}
	return f, nil
}

// apply puts the log figures into a snapshot; an agent without a contact yet gets
// zeros and an empty chart of their own, never the team's.
func (f *logFigures) apply(snap *dashboard.Snapshot) {
	snap.Today, snap.History = f.today, f.history
	for i := range snap.Agents {
		a := &snap.Agents[i]
		own, ok := f.agentToday[a.UserID]
		if !ok {
			own = dashboard.Figures{ServiceLevelSeconds: f.today.ServiceLevelSeconds, ServiceLevelTarget: f.today.ServiceLevelTarget}
		}
		a.Today = &own
		a.History = f.agentHours[a.UserID]
		if a.History == nil {
			a.History = emptyHours(f.history)
		}
	}
}

// figuresOf is a summary row as the dashboard shows it.
func figuresOf(r reporting.Row, s reporting.Settings) dashboard.Figures {
	return dashboard.Figures{
		Queued: r.Queued, Handled: r.Handled, Abandoned: r.Abandoned, Missed: r.MissedOffers,
		ASASeconds: r.ASA, ServiceLevel: r.ServiceLevel,
		ServiceLevelSeconds: int(s.ServiceLevelThreshold / time.Second), ServiceLevelTarget: s.ServiceLevelTarget,
	}
}

// bucketsOf is an hourly summary as the chart's buckets, oldest first.
func bucketsOf(sum reporting.Summary) []dashboard.Bucket {
	out := make([]dashboard.Bucket, 0, len(sum.Rows))
	for _, r := range sum.Rows {
		start, err := time.Parse(time.RFC3339, r.Group)
		if err != nil {
			continue // every ByHour row is named by its hour
		}
		out = append(out, dashboard.Bucket{Start: start, Queued: r.Queued, Handled: r.Handled, Abandoned: r.Abandoned})
	}
	// By time, not by name: the hour repeated when clocks go back has two names.
	slices.SortFunc(out, func(a, b dashboard.Bucket) int { return a.Start.Compare(b.Start) })
	return out
}

// emptyHours is the chart's hours with nothing in them.
func emptyHours(hours []dashboard.Bucket) []dashboard.Bucket {
	out := make([]dashboard.Bucket, len(hours))
	for i, h := range hours {
		out[i] = dashboard.Bucket{Start: h.Start}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
