package adminapi

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/contactcenter/contactcenter/database"
)

// revealBody is POST reveal's body (provider keys only).
type revealBody struct {
	Tenant string `json:"tenant"`
	// Subject is a pseudonym ("Visitor 4F2A"), a ghost's user ID or a conversation ID.
	Subject string `json:"subject"`
	// Reason is why, for the audit and the tenant's supervisors.
	Reason string `json:"reason"`
}

func decodeReveal(body []byte) (*revealBody, *apiError) {
	var req revealBody
	if apiErr := decodeJSON(body, &req); apiErr != nil {
		return nil, apiErr
	}
	req.Subject, req.Reason = strings.TrimSpace(req.Subject), strings.TrimSpace(req.Reason)
	switch {
	case req.Tenant == "":
		return nil, invalid("tenant", "is required")
	case req.Subject == "" || len(req.Subject) > 255 || !utf8.ValidString(req.Subject):
		return nil, invalid("subject", "give a pseudonym, a ghost user ID or a conversation ID")
	case utf8.RuneCountInString(req.Reason) < 10 || utf8.RuneCountInString(req.Reason) > maxReason || !utf8.ValidString(req.Reason):
		return nil, invalid("reason", "say why, in 10 to %d characters: it is audited and shown to the tenant's supervisors", maxReason)
	}
	return &req, nil
}

// POST reveal: the Matrix ID behind a pseudonym, for abuse tracing. Every request is
// audited, found or not; a reveal is told to the tenant's supervisors.
func (h *Handler) reveal(c *call) (int, any, *apiError) {
	body, apiErr := readBody(c.w, c.r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	req, apiErr := decodeReveal(body)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	if h.tenants[req.Tenant] == nil {
		return 0, nil, invalid("tenant", "no tenant %q", req.Tenant)
	}
	ctx := c.r.Context()
	found, err := h.backend.Reveal(ctx, req.Tenant, req.Subject)
	if err != nil {
		return 0, nil, internal("revealing", err)
	}
	audit := &database.Reveal{TenantID: req.Tenant, RequestedBy: c.who.label, Subject: req.Subject, Reason: req.Reason,
		Outcome: database.RevealNotFound, RequestedAt: h.now()}
	if found != nil {
		audit.Customer, audit.ConversationID, audit.Outcome = found.MatrixID, found.ConversationID, database.RevealFound
	}
	if err = h.db.Reveals.Add(ctx, audit); err != nil {
		// Nothing is revealed without its audit row.
		return 0, nil, internal("writing the reveal audit", err)
	}
	if found == nil {
		return 0, nil, notFoundErr("subject", "nobody is known as %q at %s (the request is audited)", req.Subject, req.Tenant)
	}
	h.notify(c, "reveal", h.backend.Revealed(ctx, req.Tenant, audit))
	return http.StatusOK, map[string]any{"matrix_id": found.MatrixID, "conversation_id": found.ConversationID, "audit_id": audit.ID}, nil
}
