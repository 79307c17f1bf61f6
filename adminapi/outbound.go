package adminapi

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

// outboundBody is POST outbound's body: one of matrix_id and account_id; at most
// one of agent and queue; times in RFC 3339.
type outboundBody struct {
	MatrixID  string `json:"matrix_id,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	Reason    string `json:"reason"`
	Agent     string `json:"agent,omitempty"`
	Queue     string `json:"queue,omitempty"`
	NotBefore string `json:"not_before,omitempty"`
	NotAfter  string `json:"not_after,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
}

const maxReason = 500

var (
	matrixIDRe  = regexp.MustCompile(`^@[a-z0-9._=/+-]+:[A-Za-z0-9.:\[\]-]+$`)
	accountIDRe = regexp.MustCompile(`^[A-Za-z0-9._:@+-]{1,128}$`)
)

// decodeOutbound reads and checks POST outbound's body, normalised: times in UTC,
// the reason trimmed. It needs nothing but the body (the fuzz target).
func decodeOutbound(body []byte) (*outboundBody, *apiError) {
	var req outboundBody
	if apiErr := decodeJSON(body, &req); apiErr != nil {
		return nil, apiErr
	}
	switch {
	case req.MatrixID == "" && req.AccountID == "":
		return nil, invalid("matrix_id", "give matrix_id or account_id")
	case req.MatrixID != "" && req.AccountID != "":
		return nil, invalid("account_id", "give matrix_id or account_id, not both")
	case req.MatrixID != "" && (!matrixIDRe.MatchString(req.MatrixID) || len(req.MatrixID) > 255):
		return nil, invalid("matrix_id", "is not a Matrix user ID")
	case req.AccountID != "" && !accountIDRe.MatchString(req.AccountID):
		return nil, invalid("account_id", "must be 1-128 letters, digits and . _ : @ + -")
	}
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.Reason == "":
		return nil, invalid("reason", "is required: the customer reads it")
	case !utf8.ValidString(req.Reason) || utf8.RuneCountInString(req.Reason) > maxReason:
		return nil, invalid("reason", "must be text of at most %d characters", maxReason)
	case strings.ContainsFunc(req.Reason, func(r rune) bool { return r < ' ' && r != '\n' }):
		return nil, invalid("reason", "must not hold control characters")
	}
	switch {
	case req.Agent != "" && req.Queue != "":
		return nil, invalid("queue", "give agent or queue, not both")
	case req.Agent != "" && !matrixIDRe.MatchString(req.Agent):
		return nil, invalid("agent", "is not a Matrix user ID")
	case req.Queue != "" && (len(req.Queue) > 64 || strings.ContainsFunc(req.Queue, func(r rune) bool { return r < ' ' })):
		return nil, invalid("queue", "is not a queue name")
	}
	var notBefore, notAfter time.Time
	for _, f := range []struct {
		name string
		text *string
		into *time.Time
	}{{"not_before", &req.NotBefore, &notBefore}, {"not_after", &req.NotAfter, &notAfter}} {
		if *f.text == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, *f.text)
		if err != nil || t.Year() < 2000 || t.Year() > 9999 {
			return nil, invalid(f.name, "must be a time such as 2026-03-10T09:00:00Z")
		}
		*f.into = t.UTC()
		*f.text = f.into.Format(time.RFC3339Nano)
	}
	if !notBefore.IsZero() && !notAfter.IsZero() && !notAfter.After(notBefore) {
		return nil, invalid("not_after", "must be after not_before")
	}
	return &req, nil
}

// outboundAnswer is what POST outbound and GET outbound/{id} answer.
type outboundAnswer struct {
	ID           int64               `json:"id,omitempty"`
	DryRun       bool                `json:"dry_run,omitempty"`
	State        outbound.State      `json:"state"`
	Verdict      outbound.Verdict    `json:"verdict,omitempty"`
	Until        time.Time           `json:"until,omitzero"`
	Reasons      []outbound.Reason   `json:"reasons"`
	Zone         string              `json:"zone,omitempty"`
	ZoneSource   outbound.ZoneSource `json:"zone_source,omitempty"`
	LocalTime    string              `json:"local_time,omitempty"`
	MatrixID     string              `json:"matrix_id,omitempty"`
	AccountID    string              `json:"account_id,omitempty"`
	Reason       string              `json:"reason,omitempty"`
	Agent        string              `json:"agent,omitempty"`
	Queue        string              `json:"queue,omitempty"`
	NotBefore    time.Time           `json:"not_before,omitzero"`
	NotAfter     time.Time           `json:"not_after,omitzero"`
	Attempts     int                 `json:"attempts"`
	Conversation int64               `json:"conversation_id,omitempty"`
	Error        string              `json:"error,omitempty"`
	CreatedAt    time.Time           `json:"created_at,omitzero"`
	UpdatedAt    time.Time           `json:"updated_at,omitzero"`
}

// POST outbound: decide whether the customer may be contacted, store the decision
// and (unless dry_run) the request, and hand an allowed or deferred one to the
// service. 202 with the request, or 200 for a dry run, which changes nothing.
func (h *Handler) createOutbound(c *call) (int, any, *apiError) {
	body, apiErr := readBody(c.w, c.r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	req, apiErr := decodeOutbound(body)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	ctx := c.r.Context()
	if apiErr = h.checkTarget(ctx, c, req); apiErr != nil {
		return 0, nil, apiErr
	}
	customer := req.MatrixID
	if req.AccountID != "" {
		var err error
		if customer, err = h.backend.CustomerOf(ctx, c.tenant.ID, req.AccountID); err != nil {
			return 0, nil, internal("resolving an account", err)
		} else if customer == "" {
			return 0, nil, invalid("account_id", "no Matrix ID is linked to this account")
		}
	}
	// Read before the transaction: the backend reads consent through the gate, which
	// writes its access log in a transaction of its own.
	facts, err := h.backend.OutboundFacts(ctx, c.tenant.ID, customer)
	if err != nil {
		return 0, nil, internal("reading the customer's facts", err)
	}
	in := outbound.Input{ContactPolicy: facts.ContactPolicy, PolicySetAt: facts.PolicySetAt, LastDecision: facts.LastDecision,
		LastDecisionAt: facts.LastDecisionAt, OptedOut: facts.OptedOut, OpenConversation: facts.OpenConversation,
		LocationZone: facts.LocationZone, ProfileZone: facts.ProfileZone, TenantZone: c.tenant.TimeZone}
	in.NotBefore, _ = parseOptionalTime(req.NotBefore)
	in.NotAfter, _ = parseOptionalTime(req.NotAfter)
	stored := &database.StoredDecision{TenantID: c.tenant.ID, Customer: customer, DryRun: req.DryRun}
	r := &database.OutboundRequest{TenantID: c.tenant.ID, Customer: customer, Reason: req.Reason, Agent: req.Agent,
		Queue: req.Queue, Origin: database.OriginAPI, NotBefore: in.NotBefore, NotAfter: in.NotAfter}
	r.TargetKind, r.Target = database.TargetMatrixID, req.MatrixID
	if req.AccountID != "" {
		r.TargetKind, r.Target = database.TargetAccountID, req.AccountID
	}
	err = h.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		// One decision at a time per customer, so that the frequency cap holds.
		if err := h.db.Outbound.LockCustomer(ctx, c.tenant.ID, customer); err != nil {
			return err
		}
		in.Now = h.now().UTC()
		if period := c.tenant.Policy.Period(); period > 0 {
			contacts, err := h.db.Outbound.Contacts(ctx, c.tenant.ID, customer, in.Now.Add(-period))
			if err != nil {
				return err
			}
			in.Contacts = contacts
		}
		d := outbound.Decide(c.tenant.Policy, in)
		stored.Decision, stored.Inputs, stored.DecidedAt = d, in, in.Now
		if !req.DryRun {
			r.State, r.Reasons, r.DeferUntil, r.CreatedAt = outbound.Initial(d.Verdict), d.Reasons, d.Until, in.Now
			if err := h.db.Outbound.Insert(ctx, r); err != nil {
				return err
			}
			stored.RequestID = r.ID
		}
		return h.db.OutboundDecisions.Insert(ctx, stored)
	})
	if err != nil {
		return 0, nil, internal("deciding an outbound request", err)
	}
	d := stored.Decision
	answer := outboundAnswer{ID: r.ID, DryRun: req.DryRun, State: outbound.Initial(d.Verdict), Verdict: d.Verdict, Until: d.Until,
		Reasons: d.Reasons, Zone: d.Zone, ZoneSource: d.ZoneSource, LocalTime: d.LocalTime, MatrixID: req.MatrixID,
		AccountID: req.AccountID, Reason: req.Reason, Agent: req.Agent, Queue: req.Queue, NotBefore: in.NotBefore, NotAfter: in.NotAfter}
	if req.DryRun {
		return http.StatusOK, answer, nil
	}
	answer.CreatedAt, answer.UpdatedAt = r.CreatedAt, r.CreatedAt
	if r.State != outbound.StateRefused {
		h.notify(c, "outbound", h.backend.OutboundRequested(ctx, c.tenant.ID, r.ID))
	}
	return http.StatusAccepted, answer, nil
}

func parseOptionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// checkTarget refuses an agent who is not one of the tenant's agents and a queue no
// step of the tenant's workflow names.
func (h *Handler) checkTarget(ctx context.Context, c *call, req *outboundBody) *apiError {
	if req.Agent != "" {
		p, err := h.db.StaffProfiles.Get(ctx, c.tenant.ID, req.Agent)
		if err != nil {
			return internal("reading a staff member", err)
		}
		if p == nil || !p.RemovedAt.IsZero() || p.Role != routing.RoleAgent {
			return invalid("agent", "%s is not one of your agents", req.Agent)
		}
	}
	if req.Queue != "" {
		wf := c.tenant.Workflow
		stored, err := h.db.Workflows.Get(ctx, c.tenant.ID)
		if err != nil {
			return internal("reading the workflow", err)
		}
		if stored != nil {
			var parsed routing.Workflow
			if err = yaml.NewDecoder(bytes.NewReader([]byte(stored.Source))).Decode(&parsed); err == nil {
				wf = &parsed
			}
		}
		if wf == nil {
			wf = routing.DefaultWorkflow()
		}
		for _, s := range wf.Steps {
			if s.Queue != "" && strings.EqualFold(s.Queue, req.Queue) {
				return nil
			}
		}
		return invalid("queue", "no step of your workflow is the queue %q", req.Queue)
	}
	return nil
}

// GET outbound/{id}: a request and where it stands.
func (h *Handler) getOutbound(c *call) (int, any, *apiError) {
	if apiErr := checkQuery(c.r); apiErr != nil {
		return 0, nil, apiErr
	}
	id, apiErr := idParam(c, "id")
	if apiErr != nil {
		return 0, nil, apiErr
	}
	r, err := h.db.Outbound.Get(c.r.Context(), c.tenant.ID, id)
	if err != nil {
		return 0, nil, internal("reading an outbound request", err)
	}
	if r == nil {
		return 0, nil, notFoundErr("id", "no outbound request %d", id)
	}
	answer := outboundAnswer{ID: r.ID, State: r.State, Until: r.DeferUntil, Reasons: r.Reasons, Reason: r.Reason, Agent: r.Agent,
		Queue: r.Queue, NotBefore: r.NotBefore, NotAfter: r.NotAfter, Attempts: r.Attempts, Conversation: r.ConversationID,
		Error: r.LastError, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.State != outbound.StateDeferred {
		answer.Until = time.Time{}
	}
	if r.TargetKind == database.TargetAccountID {
		answer.AccountID = r.Target
	} else {
		answer.MatrixID = r.Target
	}
	if decisions, err := h.db.OutboundDecisions.OfRequest(c.r.Context(), r.ID); err != nil {
		return 0, nil, internal("reading decisions", err)
	} else if n := len(decisions); n > 0 {
		last := decisions[n-1].Decision
		answer.Verdict, answer.Zone, answer.ZoneSource, answer.LocalTime = last.Verdict, last.Zone, last.ZoneSource, last.LocalTime
	}
	return http.StatusOK, answer, nil
}
