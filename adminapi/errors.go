package adminapi

import (
	"fmt"
	"net/http"
)

// The errcodes of error answers, {"errcode": ..., "error": ..., "field": ...}, as the
// context API's; field names the request field at fault when there is one.
const (
	ErrUnauthorized = "CC_UNAUTHORIZED" // 401: no key, or not a known one
	ErrForbidden    = "CC_FORBIDDEN"    // 403: the key's scope does not cover the endpoint
	ErrBadJSON      = "CC_BAD_JSON"     // 400: not one JSON object, or a field of the wrong type; 415: not application/json
	ErrUnknownField = "CC_UNKNOWN_FIELD"
	ErrTooLarge     = "CC_TOO_LARGE" // 413
	ErrInvalid      = "CC_INVALID"   // 422: a field breaks a rule (an unknown agent, a bad workflow…)
	ErrNotFound     = "CC_NOT_FOUND" // 404: no such endpoint, or no such thing of this tenant
	ErrExists       = "CC_EXISTS"    // 409: already there
	ErrMethod       = "CC_METHOD"    // 405
	ErrInternal     = "CC_INTERNAL"  // 500
)

type apiError struct {
	status int
	code   string
	field  string
	msg    string
	allow  string
	cause  error // logged for server errors, never sent
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

type errorBody struct {
	Code  string `json:"errcode"`
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func (e *apiError) body() errorBody {
	msg := e.msg
	if e.field != "" {
		msg = e.field + ": " + msg
	}
	return errorBody{Code: e.code, Error: msg, Field: e.field}
}

func badJSON(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: ErrBadJSON, field: field, msg: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: ErrInvalid, field: field, msg: fmt.Sprintf(format, args...)}
}

func notFoundErr(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, code: ErrNotFound, field: field, msg: fmt.Sprintf(format, args...)}
}

func internal(what string, err error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: ErrInternal,
		msg: "internal error; try again later", cause: fmt.Errorf("%s: %w", what, err)}
}
