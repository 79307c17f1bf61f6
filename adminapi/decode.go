package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBody bounds every request body: the largest is a workflow.
const maxBody = 64 << 10

// readBody checks the content type and reads the body up to maxBody.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if charset, ok := params["charset"]; err != nil || mediaType != "application/json" || len(params) > 1 ||
		(len(params) == 1 && (!ok || !strings.EqualFold(charset, "utf-8"))) {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: ErrBadJSON, field: "Content-Type",
			msg: "must be application/json (UTF-8)"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: ErrTooLarge, field: "body",
			msg: fmt.Sprintf("larger than %d bytes", maxBody)}
	}
	if err != nil {
		return nil, badJSON("body", "could not be read")
	}
	return body, nil
}

// decodeJSON reads exactly one JSON object into v: fields v lacks, keys that match a
// field only without case, keys given twice, other JSON values and data after the
// object are all refused, naming the field.
func decodeJSON(body []byte, v any) *apiError {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return badJSON("body", "must be a JSON object")
	}
	if apiErr := checkKeys(body); apiErr != nil {
		return apiErr
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badJSON("body", "data after the JSON object; send one object only")
	}
	return nil
}

func jsonError(err error) *apiError {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return badJSON("body", "invalid JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return badJSON(field, "must be %s, not JSON %s", typeName(typeErr.Type.String()), typeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badJSON("body", "JSON ends too early")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &apiError{status: http.StatusBadRequest, code: ErrUnknownField, field: strings.Trim(name, `"`), msg: "unknown field"}
	}
	return badJSON("body", "%v", err)
}

func typeName(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"):
		return "an integer"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

// checkKeys walks the body's tokens: every object key must be a field name as the
// API spells it (lowercase ASCII and _; a map's keys, such as skill names, excepted
// by their parent field) and appear once. encoding/json would otherwise take "Reason"
// for reason and keep the last of two.
func checkKeys(body []byte) *apiError {
	type frame struct {
		object    bool
		free      bool // a map: any key, still once
		keys      map[string]bool
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	lastKey := ""
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return jsonError(err)
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', free: freeKeys[lastKey], keys: map[string]bool{}, expectKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if top != nil && top.object && top.expectKey {
				if t == "" {
					return &apiError{status: http.StatusBadRequest, code: ErrUnknownField, field: "body", msg: "an empty key names no field"}
				}
				if !top.free && !isFieldName(t) {
					return &apiError{status: http.StatusBadRequest, code: ErrUnknownField, field: t, msg: "unknown field"}
				}
				if top.keys[t] {
					return badJSON(t, "given twice")
				}
				top.keys[t], top.expectKey, lastKey = true, false, t
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// freeKeys are the fields whose values are maps with keys of the client's choosing.
var freeKeys = map[string]bool{"skills": true}

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
