package reportapi

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/reporting"
)

// CSVHeader names the export's columns: one row per conversation opened in the
// period, in the order they opened. Times are RFC 3339 in the tenant's time zone
// (empty if it did not happen), durations whole seconds. customer is the customer's
// pseudonymous reference; nothing anybody wrote is in it.
var CSVHeader = []string{"conversation", "customer", "step", "agent", "opened_at", "queued_at", "accepted_at",
	"first_response_at", "ended_at", "wait_seconds", "handle_seconds", "transfers", "outcome", "ended_by"}

// errClientGone stops the export when the client stops reading.
var errClientGone = errors.New("the client went away")

func (h *Handler) csv(w http.ResponseWriter, r *http.Request, t Tenant) {
	p, apiErr := parseParams(r, t.Settings.Location, "from", "to")
	if apiErr != nil {
		fail(w, r, t.ID, apiErr)
		return
	}
	loc := t.Settings.Location
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="conversations-`+
		p.from.In(loc).Format("20060102T1504")+"-"+p.to.In(loc).Format("20060102T1504")+`.csv"`)
	out := csv.NewWriter(w)
	_ = out.Write(CSVHeader)
	var writeErr error
	folder := reporting.NewFolder(func(c reporting.Contact) {
		if writeErr == nil {
			writeErr = out.Write(csvRow(&c, t.Settings))
		}
	}, nil)
	err := h.store.EachForExport(r.Context(), t.ID, p.from, p.to, func(e reporting.Entry) error {
		folder.Add(e)
		if writeErr != nil {
			return errClientGone
		}
		return nil
	})
	folder.Flush()
	out.Flush()
	if err != nil && !errors.Is(err, errClientGone) {
		// The header is sent: the client sees a cut-off file, the log says why.
		zerolog.Ctx(r.Context()).Err(err).Str("tenant", t.ID).Msg("Conversations export cut short")
	}
}

func csvRow(c *reporting.Contact, s reporting.Settings) []string {
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(s.Location).Format(time.RFC3339)
	}
	seconds := func(d time.Duration, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10)
	}
	wait, waited := time.Duration(0), false
	if !c.Queued.IsZero() {
		until := c.Accepted
		if until.IsZero() {
			until = firstSet(c.Abandoned, c.Ended)
		}
		wait, waited = until.Sub(c.Queued), !until.IsZero()
	}
	handle, handled := c.Handle()
	ended := firstSet(c.Ended, c.Abandoned)
	return []string{strconv.FormatInt(c.Conversation, 10), c.Customer, c.Step, c.Agent, stamp(c.OpenedAt),
		stamp(c.Queued), stamp(c.Accepted), stamp(c.FirstResponse), stamp(ended), seconds(wait, waited),
		seconds(handle, handled), strconv.Itoa(c.Transfers), c.Outcome(s.ShortAbandon), c.EndedBy}
}

func firstSet(times ...time.Time) time.Time {
	for _, t := range times {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
