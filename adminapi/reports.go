package adminapi

import (
	"github.com/contactcenter/contactcenter/reportapi"
)

// The report endpoints (package reportapi): the summary as JSON and the
// conversations as CSV, computed from the contact log. They answer for the key's
// tenant only, with its report settings; the CSV streams, so they write their own
// answer (errors included) and return answered.

// answered is the status of an endpoint that has written its answer itself.
const answered = -1

func (h *Handler) reportSummary(c *call) (int, any, *apiError) {
	return h.serveReport(c, reportapi.PathSummary)
}

func (h *Handler) reportCSV(c *call) (int, any, *apiError) {
	return h.serveReport(c, reportapi.PathCSV)
}

func (h *Handler) serveReport(c *call, path string) (int, any, *apiError) {
	h.reports.Serve(c.w, c.r, reportapi.Tenant{ID: c.tenant.ID, Settings: c.tenant.Reports}, path)
	return answered, nil, nil
}
