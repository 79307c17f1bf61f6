package contextapi

import (
	"fmt"
	"net/http"
	"time"
)

// The errcodes of the API's error answers, {"errcode": ..., "error": ...}; the error
// text names the field at fault.
const (
	ErrUnauthorized = "CC_UNAUTHORIZED" // 401: no API key, or not a known one
	ErrBadJSON      = "CC_BAD_JSON"     // 400: not one JSON object, or a field of the wrong type; 415: not application/json
	ErrUnknownField = "CC_UNKNOWN_FIELD"
	ErrTooLarge     = "CC_TOO_LARGE"    // 413: body over the endpoint's limit
	ErrInvalid      = "CC_INVALID"      // 422: a field breaks a rule, or names an unknown visitor code
	ErrNotFound     = "CC_NOT_FOUND"    // 404: no such endpoint
	ErrMethod       = "CC_METHOD"       // 405: the endpoint exists for other methods (see Allow)
	ErrInternal     = "CC_INTERNAL"     // 500: the store failed; nothing was stored
	ErrRateLimited  = "CC_RATE_LIMITED" // 429: over the key's request limit (see Retry-After)
)

// apiError is an error answer on its way to the client.
type apiError struct {
	status int
	code   string
	msg    string
	allow  string        // the Allow header of a 405
	retry  time.Duration // the Retry-After of a 429
	cause  error         // logged for server errors, never sent
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func unauthorized(msg string) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: ErrUnauthorized, msg: msg}
}

func badJSON(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: ErrBadJSON, msg: fmt.Sprintf(format, args...)}
}

// invalid says which field breaks which rule, e.g. "views[3].url: must be an absolute
// http or https URL".
func invalid(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: ErrInvalid, msg: field + ": " + fmt.Sprintf(format, args...)}
}

func rateLimited(retry time.Duration) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: ErrRateLimited, retry: retry,
		msg: fmt.Sprintf("too many requests with this key; try again in %d s", retrySeconds(retry))}
}

// retrySeconds rounds a wait up to whole seconds, at least one.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
