package contextapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/contactcenter/contactcenter/internal/strictjson"
)

// Body size limits: a customer record or a code request is small; a batch of 100 page
// views with long URLs and titles fits in 1 MiB.
const (
	maxBody      = 64 << 10
	maxBatchBody = 1 << 20
)

// readBody checks the content type and reads the body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	body, err := strictjson.Read(w, r, limit)
	switch {
	case err == nil:
		return body, nil
	case err.Kind == strictjson.TooLarge: // limits differ by endpoint: say so
		return nil, &apiError{status: err.Status, code: ErrTooLarge,
			msg: fmt.Sprintf("body: larger than this endpoint's limit of %d bytes", limit)}
	case err.Kind == strictjson.BadJSON: // from Read, only a failed read
		return nil, badJSON("could not read the body: %s", err.Detail)
	}
	return nil, fromStrict(err)
}

// decodeJSON reads exactly one JSON object into v, as strictjson.Decode does.
func decodeJSON(body []byte, v any) *apiError {
	return fromStrict(strictjson.Decode(body, v, strictjson.Options{}))
}

var strictCodes = map[strictjson.Kind]string{
	strictjson.BadJSON:              ErrBadJSON,
	strictjson.UnknownField:         ErrUnknownField,
	strictjson.TooLarge:             ErrTooLarge,
	strictjson.UnsupportedMediaType: ErrBadJSON,
}

// fromStrict puts the field first in the message, as this API's answers have no field
// of their own; an unknown key is quoted, as it may be anything.
func fromStrict(e *strictjson.Error) *apiError {
	if e == nil {
		return nil
	}
	field := e.Field
	if e.Kind == strictjson.UnknownField {
		field = strconv.Quote(field)
	}
	msg := field + ": " + e.Message
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return &apiError{status: e.Status, code: strictCodes[e.Kind], msg: msg}
}
