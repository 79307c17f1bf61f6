package reportapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/rs/zerolog"
)

// The errcodes of error answers, {"errcode": ..., "error": ..., "field": ...}, as the
// context and admin APIs'; field names the query parameter at fault.
const (
	ErrUnauthorized = "CC_UNAUTHORIZED" // 401: no tenant came with the request
	ErrUnknownField = "CC_UNKNOWN_FIELD"
	ErrInvalid      = "CC_INVALID"   // 422 (400 for a query string that does not parse)
	ErrNotFound     = "CC_NOT_FOUND" // 404
	ErrMethod       = "CC_METHOD"    // 405 (see Allow)
	ErrInternal     = "CC_INTERNAL"  // 500
)

type apiError struct {
	status int
	code   string
	field  string
	msg    string
	cause  error // logged, never sent
}

type errorBody struct {
	Code  string `json:"errcode"`
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func invalid(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: ErrInvalid, field: field, msg: fmt.Sprintf(format, args...)}
}

func internal(what string, err error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: ErrInternal,
		msg: "internal error; try again later", cause: fmt.Errorf("%s: %w", what, err)}
}

// fail answers with an error; server errors are logged with their cause, client
// errors at debug level only.
func fail(w http.ResponseWriter, r *http.Request, tenant string, e *apiError) {
	log := zerolog.Ctx(r.Context())
	if e.status >= 500 {
		log.Err(e.cause).Str("tenant", tenant).Str("path", r.URL.Path).Msg("Report request failed")
	} else {
		log.Debug().Str("tenant", tenant).Str("path", r.URL.Path).Int("status", e.status).Str("errcode", e.code).
			Str("field", e.field).Str("error", e.msg).Msg("Report request refused")
	}
	if e.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, HEAD")
	}
	msg := e.msg
	if e.field != "" {
		msg = e.field + ": " + msg
	}
	writeJSON(w, e.status, errorBody{Code: e.code, Error: msg, Field: e.field})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body) // the client may be gone; nothing to do about it
}
