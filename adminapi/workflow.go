package adminapi

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/routing"
)

type workflowBody struct {
	// Source is the workflow in YAML, as a config's workflow key holds it.
	Source string `json:"source"`
}

type workflowAnswer struct {
	Source string `json:"source"`
	// From is "api" (set through this API) or "config".
	From      string    `json:"from"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// parseWorkflow reads a workflow and checks it against the tenant's staff; the
// error names its YAML lines.
func (h *Handler) parseWorkflow(c *call, source string) (*routing.Workflow, *apiError) {
	if strings.TrimSpace(source) == "" {
		return nil, invalid("source", "is empty; give the workflow in YAML")
	}
	var wf routing.Workflow
	dec := yaml.NewDecoder(bytes.NewReader([]byte(source)))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		return nil, invalid("source", "%v", err)
	}
	profiles, err := h.db.StaffProfiles.OfTenant(c.r.Context(), c.tenant.ID)
	if err != nil {
		return nil, internal("listing staff", err)
	}
	staff := make([]routing.Staff, len(profiles))
	for i, p := range profiles {
		staff[i] = p.Staff
	}
	if err = wf.Validate(staff); err != nil {
		return nil, invalid("source", "%v", err)
	}
	return &wf, nil
}

func (h *Handler) decodeWorkflow(c *call) (*routing.Workflow, string, *apiError) {
	body, apiErr := readBody(c.w, c.r)
	if apiErr != nil {
		return nil, "", apiErr
	}
	var req workflowBody
	if apiErr = decodeJSON(body, &req); apiErr != nil {
		return nil, "", apiErr
	}
	wf, apiErr := h.parseWorkflow(c, req.Source)
	return wf, req.Source, apiErr
}

// GET workflow: the workflow in force.
func (h *Handler) getWorkflow(c *call) (int, any, *apiError) {
	if apiErr := checkQuery(c.r); apiErr != nil {
		return 0, nil, apiErr
	}
	stored, err := h.db.Workflows.Get(c.r.Context(), c.tenant.ID)
	if err != nil {
		return 0, nil, internal("reading the workflow", err)
	}
	if stored != nil {
		return http.StatusOK, workflowAnswer{Source: stored.Source, From: "api", Version: stored.Version, UpdatedAt: stored.UpdatedAt.UTC()}, nil
	}
	wf := c.tenant.Workflow
	if wf == nil {
		wf = routing.DefaultWorkflow()
	}
	source, err := yaml.Marshal(wf)
	if err != nil {
		return 0, nil, internal("writing the config's workflow", err)
	}
	return http.StatusOK, workflowAnswer{Source: string(source), From: "config"}, nil
}

// POST workflow/validate: whether a workflow would be accepted; changes nothing.
func (h *Handler) validateWorkflow(c *call) (int, any, *apiError) {
	wf, _, apiErr := h.decodeWorkflow(c)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	return http.StatusOK, map[string]any{"valid": true, "steps": len(wf.Steps)}, nil
}

// PUT workflow: replace the workflow; it takes effect at once.
func (h *Handler) replaceWorkflow(c *call) (int, any, *apiError) {
	_, source, apiErr := h.decodeWorkflow(c)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	stored, err := h.db.Workflows.Put(c.r.Context(), c.tenant.ID, source, h.now())
	if err != nil {
		return 0, nil, internal("storing the workflow", err)
	}
	h.notify(c, "workflow", h.backend.WorkflowReplaced(c.r.Context(), c.tenant.ID))
	return http.StatusOK, workflowAnswer{Source: stored.Source, From: "api", Version: stored.Version, UpdatedAt: stored.UpdatedAt.UTC()}, nil
}
