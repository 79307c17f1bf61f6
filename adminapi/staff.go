package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// staffBody is a staff member as the API reads and writes them.
type staffBody struct {
	UserID    string         `json:"user_id"`
	Name      string         `json:"name"`
	Role      string         `json:"role"`
	Skills    map[string]int `json:"skills"`
	Capacity  int            `json:"capacity"`
	Languages []string       `json:"languages"`
	Regions   []string       `json:"regions"`
	// WrapUp is a duration such as "30s" ("" or "0": none).
	WrapUp string `json:"wrap_up"`
	Voice  bool   `json:"voice"`
}

type staffAnswer struct {
	staffBody
	Source    string    `json:"source"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

func staffOut(p *database.StaffProfile) staffAnswer {
	wrap := "0"
	if p.WrapUp > 0 {
		wrap = p.WrapUp.Std().String()
	}
	return staffAnswer{staffBody: staffBody{UserID: p.UserID, Name: p.Name, Role: string(p.Role), Skills: nonNil(p.Skills),
		Capacity: p.MaxConversations(), Languages: orEmpty(p.Languages), Regions: orEmpty(p.Regions), WrapUp: wrap, Voice: p.Voice},
		Source: p.Source, Version: p.Version, UpdatedAt: p.UpdatedAt.UTC()}
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// decodeStaff reads and validates a staff member; pathUser is the user ID in the path
// (for a change), which a body may repeat but not contradict.
func decodeStaff(body []byte, pathUser string) (*routing.Staff, bool, *apiError) {
	var req staffBody
	if apiErr := decodeJSON(body, &req); apiErr != nil {
		return nil, false, apiErr
	}
	if pathUser != "" {
		if req.UserID != "" && req.UserID != pathUser {
			return nil, false, invalid("user_id", "differs from the user ID in the path")
		}
		req.UserID = pathUser
	}
	s := &routing.Staff{UserID: req.UserID, Name: strings.TrimSpace(req.Name), Role: routing.Role(req.Role), Skills: req.Skills,
		Capacity: req.Capacity, Languages: req.Languages, Regions: req.Regions}
	if req.WrapUp != "" && req.WrapUp != "0" {
		d, err := time.ParseDuration(req.WrapUp)
		if err != nil || d < 0 {
			return nil, false, invalid("wrap_up", "must be a duration such as 30s or 2m")
		}
		s.WrapUp = routing.Duration(d)
	}
	if err := s.Validate(); err != nil {
		return nil, false, invalid(staffField(err.Error()), "%v", err)
	}
	return s, req.Voice, nil
}

// staffFields map the first word of a staff validation error to its field.
var staffFields = map[string]string{"user_id": "user_id", "name": "name", "role": "role", "capacity": "capacity",
	"skill": "skills", "language": "languages", "region": "regions", "wrap_up": "wrap_up"}

func staffField(msg string) string {
	word, _, _ := strings.Cut(msg, " ")
	if f, ok := staffFields[word]; ok {
		return f
	}
	return "body"
}

var (
	errNotOnStaff = errors.New("not on the staff")
	errOnStaff    = errors.New("on the staff already")
)

// GET staff: the tenant's staff.
func (h *Handler) listStaff(c *call) (int, any, *apiError) {
	if apiErr := checkQuery(c.r); apiErr != nil {
		return 0, nil, apiErr
	}
	list, err := h.db.StaffProfiles.OfTenant(c.r.Context(), c.tenant.ID)
	if err != nil {
		return 0, nil, internal("listing staff", err)
	}
	out := make([]staffAnswer, len(list))
	for i, p := range list {
		out[i] = staffOut(p)
	}
	return http.StatusOK, map[string]any{"staff": out}, nil
}

// POST staff: add someone (409 if on the staff already).
func (h *Handler) addStaff(c *call) (int, any, *apiError) {
	return h.putStaff(c, "", false)
}

// PUT staff/{user_id}: change someone, the whole entry (404 if not on the staff).
func (h *Handler) changeStaff(c *call) (int, any, *apiError) {
	return h.putStaff(c, c.params[0], true)
}

func (h *Handler) putStaff(c *call, pathUser string, change bool) (int, any, *apiError) {
	body, apiErr := readBody(c.w, c.r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	s, voice, apiErr := decodeStaff(body, pathUser)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	if c.tenant.CheckStaff != nil {
		if err := c.tenant.CheckStaff(s.UserID); err != nil {
			return 0, nil, invalid("user_id", "%v", err)
		}
	}
	ctx := c.r.Context()
	p := &database.StaffProfile{TenantID: c.tenant.ID, Staff: *s, Voice: voice, UpdatedAt: h.now()}
	err := h.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		current, err := h.db.StaffProfiles.Get(ctx, c.tenant.ID, s.UserID)
		if err != nil {
			return err
		}
		onStaff := current != nil && current.RemovedAt.IsZero()
		switch {
		case change && !onStaff:
			return errNotOnStaff
		case !change && onStaff:
			return errOnStaff
		}
		return h.db.StaffProfiles.Put(ctx, p)
	})
	switch {
	case errors.Is(err, errNotOnStaff):
		return 0, nil, notFoundErr("user_id", "%s is not on the staff", s.UserID)
	case errors.Is(err, errOnStaff):
		return 0, nil, &apiError{status: http.StatusConflict, code: ErrExists, field: "user_id",
			msg: s.UserID + " is on the staff already; change them with PUT staff/{user_id}"}
	case err != nil:
		return 0, nil, internal("storing a staff member", err)
	}
	h.notify(c, "staff", h.backend.StaffChanged(ctx, c.tenant.ID))
	status := http.StatusCreated
	if change {
		status = http.StatusOK
	}
	return status, staffOut(p), nil
}

// DELETE staff/{user_id}: take someone off the staff.
func (h *Handler) removeStaff(c *call) (int, any, *apiError) {
	user := c.params[0]
	removed, err := h.db.StaffProfiles.Remove(c.r.Context(), c.tenant.ID, user, h.now())
	if err != nil {
		return 0, nil, internal("removing a staff member", err)
	}
	if !removed {
		return 0, nil, notFoundErr("user_id", "%s is not on the staff", user)
	}
	h.notify(c, "staff", h.backend.StaffChanged(c.r.Context(), c.tenant.ID))
	return http.StatusOK, map[string]any{"user_id": user, "removed": true}, nil
}
