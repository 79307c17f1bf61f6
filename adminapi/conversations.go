package adminapi

import (
	"net/http"
	"strconv"
)

// GET conversations?state=open|closed&before=<id>&limit=<1-200>: newest first.
func (h *Handler) listConversations(c *call) (int, any, *apiError) {
	q := c.r.URL.Query()
	if apiErr := checkQuery(c.r, "state", "before", "limit"); apiErr != nil {
		return 0, nil, apiErr
	}
	f := ConversationFilter{State: q.Get("state"), Limit: 50}
	if f.State != "" && f.State != "open" && f.State != "closed" {
		return 0, nil, invalid("state", "must be open or closed")
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, nil, invalid("before", "must be a conversation ID")
		}
		f.Before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return 0, nil, invalid("limit", "must be 1 to 200")
		}
		f.Limit = n
	}
	list, err := h.backend.Conversations(c.r.Context(), c.tenant.ID, f)
	if err != nil {
		return 0, nil, internal("listing conversations", err)
	}
	if list == nil {
		list = []Conversation{}
	}
	return http.StatusOK, map[string]any{"conversations": list}, nil
}

// GET conversations/{id}.
func (h *Handler) getConversation(c *call) (int, any, *apiError) {
	if apiErr := checkQuery(c.r); apiErr != nil {
		return 0, nil, apiErr
	}
	id, apiErr := idParam(c, "id")
	if apiErr != nil {
		return 0, nil, apiErr
	}
	conv, err := h.backend.Conversation(c.r.Context(), c.tenant.ID, id)
	if err != nil {
		return 0, nil, internal("reading a conversation", err)
	}
	if conv == nil {
		return 0, nil, notFoundErr("id", "no conversation %d", id)
	}
	return http.StatusOK, conv, nil
}
