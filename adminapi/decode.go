package adminapi

import (
	"net/http"

	"github.com/contactcenter/contactcenter/internal/strictjson"
)

// maxBody bounds every request body: the largest is a workflow.
const maxBody = 64 << 10

// decodeOptions: staff skills are a map keyed by the tenant's own skill names.
var decodeOptions = strictjson.Options{FreeKeys: []string{"skills"}}

// readBody checks the content type and reads the body up to maxBody.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := strictjson.Read(w, r, maxBody)
	if err != nil && err.Kind == strictjson.UnsupportedMediaType {
		err.Message = "must be application/json (UTF-8)" // one answer, whatever was sent
	}
	return body, fromStrict(err)
}

// decodeJSON reads exactly one JSON object into v, as strictjson.Decode does.
func decodeJSON(body []byte, v any) *apiError {
	return fromStrict(strictjson.Decode(body, v, decodeOptions))
}

var strictCodes = map[strictjson.Kind]string{
	strictjson.BadJSON:              ErrBadJSON,
	strictjson.UnknownField:         ErrUnknownField,
	strictjson.TooLarge:             ErrTooLarge,
	strictjson.UnsupportedMediaType: ErrBadJSON,
}

// fromStrict keeps strictjson's field and message apart, as this API's answers do.
func fromStrict(e *strictjson.Error) *apiError {
	if e == nil {
		return nil
	}
	if e.Field == "" { // an empty key: an answer's field cannot be empty
		return &apiError{status: e.Status, code: strictCodes[e.Kind], field: "body", msg: "an empty key names no field"}
	}
	return &apiError{status: e.Status, code: strictCodes[e.Kind], field: e.Field, msg: e.Message}
}
