package contextapi

import (
	"fmt"
	"slices"
	"time"

	"github.com/contactcenter/contactcenter/linkcode"
)

// The request bodies. Each decode function reads and validates one in full and returns
// it normalised (defaults filled in, codes in canonical form), so that encoding the
// result and decoding it again gives the same value: FuzzDecode checks that.

type customerRequest struct {
	Name           string   `json:"name,omitempty"`
	Tier           string   `json:"tier,omitempty"`
	Products       []string `json:"products,omitempty"`
	AccountManager string   `json:"account_manager,omitempty"`
	MatrixIDs      []string `json:"matrix_ids,omitempty"`
}

func decodeCustomer(body []byte) (customerRequest, *apiError) {
	var c customerRequest
	if err := decodeJSON(body, &c); err != nil {
		return c, err
	}
	if err := checkText(c.Name, maxNameLen); err != nil {
		return c, invalid("name", "%v", err)
	}
	if err := checkText(c.Tier, maxTierLen); err != nil {
		return c, invalid("tier", "%v", err)
	}
	if len(c.Products) > maxProducts {
		return c, invalid("products", "has %d entries, the limit is %d", len(c.Products), maxProducts)
	}
	for i, p := range c.Products {
		field := fmt.Sprintf("products[%d]", i)
		if p == "" {
			return c, invalid(field, "is empty")
		}
		if err := checkText(p, maxProductLen); err != nil {
			return c, invalid(field, "%v", err)
		}
		if slices.Contains(c.Products[:i], p) {
			return c, invalid(field, "%q is listed twice", p)
		}
	}
	if c.AccountManager != "" {
		if err := checkMatrixUserID(c.AccountManager); err != nil {
			return c, invalid("account_manager", "%v", err)
		}
	}
	if len(c.MatrixIDs) > maxMatrixIDs {
		return c, invalid("matrix_ids", "has %d entries, the limit is %d", len(c.MatrixIDs), maxMatrixIDs)
	}
	for i, id := range c.MatrixIDs {
		field := fmt.Sprintf("matrix_ids[%d]", i)
		if err := checkMatrixUserID(id); err != nil {
			return c, invalid(field, "%v", err)
		}
		if slices.Contains(c.MatrixIDs[:i], id) {
			return c, invalid(field, "%q is listed twice", id)
		}
	}
	// [] and a missing list mean the same: no entries.
	if len(c.Products) == 0 {
		c.Products = nil
	}
	if len(c.MatrixIDs) == 0 {
		c.MatrixIDs = nil
	}
	return c, nil
}

func (c customerRequest) customer(accountID string) Customer {
	return Customer{AccountID: accountID, Name: c.Name, Tier: c.Tier, Products: c.Products,
		AccountManager: c.AccountManager, MatrixIDs: c.MatrixIDs}
}

// pageViewRequest is one view. Time is RFC 3339; decodePageViews fills it in with
// the time of the request when it is left out.
type pageViewRequest struct {
	AccountID   string `json:"account_id,omitempty"`
	VisitorCode string `json:"visitor_code,omitempty"`
	URL         string `json:"url"`
	Title       string `json:"title,omitempty"`
	Time        string `json:"time,omitempty"`
}

// pageViewsBody is either one view or {"views": [...]}.
type pageViewsBody struct {
	pageViewRequest
	Views []pageViewRequest `json:"views,omitempty"`
}

// How far page view times may stray from the server's clock: a little ahead for
// clock skew, and back as far as browsing is worth keeping.
const (
	maxViewAhead = 5 * time.Minute
	maxViewAge   = 30 * 24 * time.Hour
)

// decodePageViews returns the views of a single or batch request, all valid, or the
// first error.
func decodePageViews(body []byte, now time.Time) ([]pageViewRequest, *apiError) {
	var b pageViewsBody
	if err := decodeJSON(body, &b); err != nil {
		return nil, err
	}
	if b.Views == nil {
		v, err := checkPageView("", b.pageViewRequest, now)
		if err != nil {
			return nil, err
		}
		return []pageViewRequest{v}, nil
	}
	if b.pageViewRequest != (pageViewRequest{}) {
		return nil, invalid("views", "a batch holds its views in views only, not beside it")
	}
	if len(b.Views) == 0 || len(b.Views) > maxViewsPerBatch {
		return nil, invalid("views", "has %d views; send 1 to %d", len(b.Views), maxViewsPerBatch)
	}
	views := make([]pageViewRequest, len(b.Views))
	for i, v := range b.Views {
		var err *apiError
		if views[i], err = checkPageView(fmt.Sprintf("views[%d].", i), v, now); err != nil {
			return nil, err
		}
	}
	return views, nil
}

// checkPageView validates one view; prefix names it within a batch ("views[2].").
func checkPageView(prefix string, v pageViewRequest, now time.Time) (pageViewRequest, *apiError) {
	switch {
	case v.AccountID == "" && v.VisitorCode == "":
		return v, invalid(prefix+"account_id", "account_id or visitor_code is required")
	case v.AccountID != "" && v.VisitorCode != "":
		return v, invalid(prefix+"visitor_code", "give account_id or visitor_code, not both")
	case v.AccountID != "":
		if err := checkAccountID(v.AccountID); err != nil {
			return v, invalid(prefix+"account_id", "%v", err)
		}
	default:
		kind, code, ok := linkcode.Parse(v.VisitorCode)
		if !ok || kind != linkcode.Visitor {
			return v, invalid(prefix+"visitor_code", "is not a visitor code (VISIT-XXXX-XXXX-XXXX, from POST visitorcodes)")
		}
		v.VisitorCode = code
	}
	if err := checkPageURL(v.URL); err != nil {
		return v, invalid(prefix+"url", "%v", err)
	}
	if err := checkText(v.Title, maxTitleLen); err != nil {
		return v, invalid(prefix+"title", "%v", err)
	}
	at := now
	if v.Time != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, v.Time); err != nil {
			return v, invalid(prefix+"time", "is not an RFC 3339 time such as 2025-01-31T09:30:00Z")
		}
	}
	if at.After(now.Add(maxViewAhead)) {
		return v, invalid(prefix+"time", "is more than %v in the future", maxViewAhead)
	}
	if at.Before(now.Add(-maxViewAge)) {
		return v, invalid(prefix+"time", "is more than 30 days ago")
	}
	v.Time = at.UTC().Format(time.RFC3339Nano)
	return v, nil
}

// pageView converts a view checked by checkPageView.
func (v pageViewRequest) pageView() PageView {
	at, _ := time.Parse(time.RFC3339Nano, v.Time) // normalised by checkPageView
	p := PageView{AccountID: v.AccountID, URL: v.URL, Title: v.Title, Time: at}
	if v.VisitorCode != "" {
		p.VisitorCodeHash = linkcode.Hash(v.VisitorCode)
	}
	return p
}

// Code lifetimes: long enough to type the code in, short enough that a code seen
// over someone's shoulder soon stops working.
const (
	defaultCodeTTL = 600
	maxCodeTTL     = 86400
)

type linkCodeRequest struct {
	AccountID  string `json:"account_id"`
	TTLSeconds *int   `json:"ttl_seconds,omitempty"`
}

type visitorCodeRequest struct {
	TTLSeconds *int `json:"ttl_seconds,omitempty"`
}

func decodeLinkCode(body []byte) (linkCodeRequest, *apiError) {
	var req linkCodeRequest
	if err := decodeJSON(body, &req); err != nil {
		return req, err
	}
	if err := checkAccountID(req.AccountID); err != nil {
		return req, invalid("account_id", "%v", err)
	}
	var err *apiError
	req.TTLSeconds, err = checkTTL(req.TTLSeconds)
	return req, err
}

func decodeVisitorCode(body []byte) (visitorCodeRequest, *apiError) {
	var req visitorCodeRequest
	if err := decodeJSON(body, &req); err != nil {
		return req, err
	}
	var err *apiError
	req.TTLSeconds, err = checkTTL(req.TTLSeconds)
	return req, err
}

func checkTTL(ttl *int) (*int, *apiError) {
	if ttl == nil {
		d := defaultCodeTTL
		return &d, nil
	}
	if *ttl < 1 || *ttl > maxCodeTTL {
		return ttl, invalid("ttl_seconds", "is %d; must be 1 to %d", *ttl, maxCodeTTL)
	}
	return ttl, nil
}
