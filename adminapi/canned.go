package adminapi

import (
	"net/http"
	"sort"
	"time"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
)

// Canned replies: ready-made answers agents send with !c <name>. The config's replies
// are listed with from "config"; one set here (from "api") overrides a config reply of
// the same name, and deleting it brings the config's back. The service reads the
// replies when an agent uses one, so a change counts from the next use.

type cannedBody struct {
	// Text is the reply, with the placeholders {first_name}, {name}, {agent} and
	// {business}.
	Text string `json:"text"`
}

type cannedAnswer struct {
	Name string `json:"name"`
	Text string `json:"text"`
	// From is "api" (set here) or "config".
	From      string    `json:"from"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// GET canned_replies: the tenant's replies in force, by name.
func (h *Handler) listCanned(c *call) (int, any, *apiError) {
	if apiErr := checkQuery(c.r); apiErr != nil {
		return 0, nil, apiErr
	}
	stored, err := h.db.CannedReplies().OfTenant(c.r.Context(), c.tenant.ID)
	if err != nil {
		return 0, nil, internal("listing canned replies", err)
	}
	byName := map[string]cannedAnswer{}
	for name, text := range c.tenant.CannedReplies {
		byName[name] = cannedAnswer{Name: name, Text: text, From: "config"}
	}
	for _, r := range stored {
		byName[r.Name] = cannedOut(r)
	}
	out := make([]cannedAnswer, 0, len(byName))
	for _, a := range byName {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return http.StatusOK, map[string]any{"canned_replies": out}, nil
}

func cannedOut(r *database.CannedReply) cannedAnswer {
	return cannedAnswer{Name: r.Name, Text: r.Text, From: "api", UpdatedAt: r.UpdatedAt.UTC()}
}

// PUT canned_replies/{name}: set a reply (201 new, 200 replaced).
func (h *Handler) putCanned(c *call) (int, any, *apiError) {
	name := c.params[0]
	if err := bot.ValidateCannedName(name); err != nil {
		return 0, nil, invalid("name", "%v", err)
	}
	body, apiErr := readBody(c.w, c.r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	var req cannedBody
	if apiErr = decodeJSON(body, &req); apiErr != nil {
		return 0, nil, apiErr
	}
	if err := bot.ValidateCannedText(req.Text); err != nil {
		return 0, nil, invalid("text", "%v", err)
	}
	r := &database.CannedReply{TenantID: c.tenant.ID, Name: name, Text: req.Text, UpdatedAt: h.now()}
	created, err := h.db.CannedReplies().Put(c.r.Context(), r)
	if err != nil {
		return 0, nil, internal("storing a canned reply", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return status, cannedOut(r), nil
}

// DELETE canned_replies/{name}: remove a reply set here (404 for none; a config
// reply is changed in the config).
func (h *Handler) deleteCanned(c *call) (int, any, *apiError) {
	name := c.params[0]
	removed, err := h.db.CannedReplies().Delete(c.r.Context(), c.tenant.ID, name)
	if err != nil {
		return 0, nil, internal("removing a canned reply", err)
	}
	if !removed {
		if _, inConfig := c.tenant.CannedReplies[name]; inConfig {
			return 0, nil, notFoundErr("name", "%s is the config's; override it with PUT, or change the config", name)
		}
		return 0, nil, notFoundErr("name", "there is no canned reply %s", name)
	}
	return http.StatusOK, map[string]any{"name": name, "removed": true}, nil
}
