package contextapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Body size limits: a customer record or a code request is small; a batch of 100 page
// views with long URLs and titles fits in 1 MiB.
const (
	maxBody      = 64 << 10
	maxBatchBody = 1 << 20
)

// readBody checks the content type and reads the body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: ErrBadJSON, msg: err.Error()}
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, badJSON("could not read the body: %v", err)
	}
	return body, nil
}

func tooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: ErrTooLarge,
		msg: fmt.Sprintf("body: larger than this endpoint's limit of %d bytes", limit)}
}

// checkContentType accepts application/json, with no parameter but charset=utf-8.
func checkContentType(header string) error {
	if header == "" {
		return errors.New("Content-Type: missing; must be application/json")
	}
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || mediaType != "application/json" {
		return fmt.Errorf("Content-Type: %q is not application/json", header)
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return fmt.Errorf("Content-Type: parameter %s=%q is not supported; JSON is UTF-8", name, value)
		}
	}
	return nil
}

// decodeJSON reads exactly one JSON object into v, refusing fields v does not have,
// other JSON values (null would otherwise pass as an empty object) and anything after
// the object.
func decodeJSON(body []byte, v any) *apiError {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return badJSON("body: must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return badJSON("body: data after the JSON object; send one object only")
	}
	return checkKeys(body)
}

// jsonError turns encoding/json's errors into answers that name the field.
func jsonError(err error) *apiError {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return badJSON("body: invalid JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return badJSON("%s: must be %s, not JSON %s", field, jsonTypeName(typeErr.Type.String()), typeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badJSON("body: JSON ends too early")
	}
	// encoding/json has no type for this one: `json: unknown field "name"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &apiError{status: http.StatusBadRequest, code: ErrUnknownField, msg: name + ": unknown field"}
	}
	return badJSON("body: %v", err)
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "int" || goType == "*int":
		return "an integer"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

// checkKeys refuses what encoding/json lets through: keys that match a field only
// when case is ignored ("Name", or "naMe" with a Kelvin sign K), which would
// otherwise be taken for the field, and keys given twice in one object, of which it
// would keep the last without a word. All field names are lowercase ASCII and
// underscores, so any other key is unknown. body must be valid JSON (the decoder has
// read it), which lets a plain byte scan tell keys from values: a key is a string
// followed by a colon.
func checkKeys(body []byte) *apiError {
	var objects []map[string]bool // the keys seen in each enclosing object
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			objects = append(objects, map[string]bool{})
		case '}':
			objects = objects[:len(objects)-1]
		case '"':
			start := i
			for i++; body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
			j := i + 1
			for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\r' || body[j] == '\n') {
				j++
			}
			if j == len(body) || body[j] != ':' {
				continue // a value
			}
			key := string(body[start+1 : i])
			if bytes.IndexByte(body[start:i], '\\') >= 0 { // rare: unescape it
				if err := json.Unmarshal(body[start:i+1], &key); err != nil {
					return badJSON("body: invalid key at byte %d", start)
				}
			}
			if !isFieldName(key) {
				return &apiError{status: http.StatusBadRequest, code: ErrUnknownField, msg: strconv.Quote(key) + ": unknown field"}
			}
			if objects[len(objects)-1][key] {
				return badJSON("%s: given twice", key)
			}
			objects[len(objects)-1][key] = true
		}
	}
	return nil
}

func isFieldName(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}
