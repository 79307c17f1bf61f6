package contextapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/contactcenter/contactcenter/linkcode"
)

// PUT customers/{account_id}: create or replace a customer record.
func (h *Handler) putCustomer(c call) (any, *apiError) {
	accountID := c.params[0]
	if err := checkAccountID(accountID); err != nil {
		return nil, invalid("account_id (in the path)", "%v", err)
	}
	body, apiErr := readBody(c.w, c.r, maxBody)
	if apiErr != nil {
		return nil, apiErr
	}
	req, apiErr := decodeCustomer(body)
	if apiErr != nil {
		return nil, apiErr
	}
	if err := h.store.UpsertCustomer(c.r.Context(), c.tenant, req.customer(accountID)); err != nil {
		return nil, storeFailed("upserting a customer", err)
	}
	return map[string]string{"account_id": accountID}, nil
}

// POST pageviews: one view, or a batch of up to 100 stored all or none.
func (h *Handler) postPageViews(c call) (any, *apiError) {
	body, apiErr := readBody(c.w, c.r, maxBatchBody)
	if apiErr != nil {
		return nil, apiErr
	}
	reqs, apiErr := decodePageViews(body, h.now())
	if apiErr != nil {
		return nil, apiErr
	}
	views := make([]PageView, len(reqs))
	for i, v := range reqs {
		views[i] = v.pageView()
	}
	err := h.store.AddPageViews(c.r.Context(), c.tenant, views)
	if errors.Is(err, ErrUnknownVisitorCode) {
		return nil, invalid("visitor_code", "unknown or expired; get one from POST visitorcodes (nothing was stored)")
	}
	if err != nil {
		return nil, storeFailed("adding page views", err)
	}
	return map[string]int{"stored": len(views)}, nil
}

// codeResponse is the answer to both code endpoints. The code is shown here once and
// only its hash is stored.
type codeResponse struct {
	Code      string `json:"code"`
	ExpiresAt string `json:"expires_at"`
}

// POST linkcodes: a code the customer types in a chat to prove they own the account.
func (h *Handler) postLinkCode(c call) (any, *apiError) {
	body, apiErr := readBody(c.w, c.r, maxBody)
	if apiErr != nil {
		return nil, apiErr
	}
	req, apiErr := decodeLinkCode(body)
	if apiErr != nil {
		return nil, apiErr
	}
	return h.saveCode(c, linkcode.Link, req.AccountID, *req.TTLSeconds)
}

// POST visitorcodes: a code that ties an anonymous visitor's page views to a chat.
func (h *Handler) postVisitorCode(c call) (any, *apiError) {
	body, apiErr := readBody(c.w, c.r, maxBody)
	if apiErr != nil {
		return nil, apiErr
	}
	req, apiErr := decodeVisitorCode(body)
	if apiErr != nil {
		return nil, apiErr
	}
	return h.saveCode(c, linkcode.Visitor, "", *req.TTLSeconds)
}

func (h *Handler) saveCode(c call, kind linkcode.Kind, accountID string, ttlSeconds int) (any, *apiError) {
	code := linkcode.New(kind)
	// Whole seconds, so the expiry the client sees is exactly the one stored.
	expires := h.now().Add(time.Duration(ttlSeconds) * time.Second).UTC().Truncate(time.Second)
	stored := Code{Kind: kind, Hash: linkcode.Hash(code), AccountID: accountID, ExpiresAt: expires}
	if err := h.store.SaveCode(c.r.Context(), c.tenant, stored); err != nil {
		return nil, storeFailed("saving a "+string(kind)+" code", err)
	}
	return codeResponse{Code: code, ExpiresAt: expires.Format(time.RFC3339)}, nil
}

var _ http.Handler = (*Handler)(nil)
