package reportapi

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/contactcenter/contactcenter/reporting"
)

// MaxPeriod is the longest period one request may cover.
const MaxPeriod = 366 * 24 * time.Hour

// params are a report request's validated query parameters.
type params struct {
	from, to time.Time
	groupBy  reporting.GroupBy
}

// parseParams reads the query string strictly: every parameter known, given once,
// well-formed. from and to are RFC 3339 times or dates (midnight in the tenant's
// time zone); to is exclusive.
func parseParams(r *http.Request, loc *time.Location, allowed ...string) (params, *apiError) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, &apiError{status: http.StatusBadRequest, code: ErrInvalid, field: "query", msg: "the query string does not parse"}
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if !slices.Contains(allowed, name) {
			return params{}, &apiError{status: http.StatusBadRequest, code: ErrUnknownField, field: name, msg: "unknown parameter"}
		}
		if len(values[name]) != 1 {
			return params{}, invalid(name, "given %d times; give it once", len(values[name]))
		}
	}
	var p params
	var apiErr *apiError
	if p.from, apiErr = parseTime(values, "from", loc); apiErr != nil {
		return params{}, apiErr
	}
	if p.to, apiErr = parseTime(values, "to", loc); apiErr != nil {
		return params{}, apiErr
	}
	if !p.to.After(p.from) {
		return params{}, invalid("to", "must be after from")
	}
	if p.to.Sub(p.from) > MaxPeriod {
		return params{}, invalid("to", "the period may cover at most 366 days")
	}
	if slices.Contains(allowed, "group_by") {
		switch g := reporting.GroupBy(values.Get("group_by")); g {
		case "":
			p.groupBy = reporting.ByDay
		case reporting.ByDay, reporting.ByAgent, reporting.ByStep:
			p.groupBy = g
		default:
			return params{}, invalid("group_by", "must be day, agent or step")
		}
	}
	return p, nil
}

func parseTime(values url.Values, name string, loc *time.Location) (time.Time, *apiError) {
	s := values.Get(name)
	if s == "" {
		return time.Time{}, invalid(name, "required: a date (2025-03-14) or an RFC 3339 time")
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid(name, "must be a date (2025-03-14) or an RFC 3339 time (2025-03-14T09:00:00Z)")
	}
	if t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, invalid(name, "out of range")
	}
	return t, nil
}
