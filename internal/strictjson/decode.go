package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Options fit Decode to one API's requests.
type Options struct {
	// FreeKeys names the fields whose values are maps keyed by the client's own
	// names (skill names, say): their keys need not look like field names, but must
	// still appear once.
	FreeKeys []string
}

// Decode reads body, exactly one JSON object, into v. It refuses what encoding/json
// lets through: other JSON values (null would pass as an empty object), keys v has no
// field for, keys that match a field only when case is ignored ("Name", or "naMe"
// with a Kelvin sign K) and keys given twice (of which encoding/json keeps the last
// without a word), and anything after the object. Field names are lowercase ASCII and
// underscores, so any other key is unknown. Key faults are found before type errors,
// so that "Name":5 is reported as the unknown key it is.
func Decode(body []byte, v any, opts Options) *Error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return badJSON("body", "must be a JSON object")
	}
	fault, malformed := checkKeys(body, opts.FreeKeys)
	if fault != nil {
		return fault
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if malformed != nil { // the decoder took what the tokenizer did not: keys went unchecked
		return decodeError(malformed)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return badJSON("body", "data after the JSON object; send one object only")
	}
	return nil
}

// decodeError turns encoding/json's errors into ones that name the field.
func decodeError(err error) *Error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		e := badJSON("body", fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset))
		e.Detail = err.Error()
		return e
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return badJSON(field, fmt.Sprintf("must be %s, not JSON %s", typeName(typeErr.Type.String()), typeErr.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badJSON("body", "JSON ends too early")
	}
	// encoding/json has no type for this one: `json: unknown field "name"`.
	if quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, unqErr := strconv.Unquote(quoted)
		if unqErr != nil {
			name = strings.Trim(quoted, `"`)
		}
		return &Error{Status: http.StatusBadRequest, Kind: UnknownField, Field: name, Message: "unknown field"}
	}
	return badJSON("body", err.Error())
}

// typeName says in JSON's terms what a Go type takes.
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
