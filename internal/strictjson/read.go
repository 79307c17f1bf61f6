package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// Read checks that the request says it sends JSON and reads its body, refusing one
// of more than maxBody bytes.
func Read(w http.ResponseWriter, r *http.Request, maxBody int64) ([]byte, *Error) {
	if msg := checkContentType(r.Header.Get("Content-Type")); msg != "" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Kind: UnsupportedMediaType, Field: "Content-Type", Message: msg}
	}
	if r.ContentLength > maxBody { // refused before reading a byte of it
		return nil, tooLarge(maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, tooLarge(maxBody)
	}
	if err != nil {
		e := badJSON("body", "could not be read")
		e.Detail = err.Error()
		return nil, e
	}
	return body, nil
}

func tooLarge(maxBody int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Kind: TooLarge, Field: "body",
		Message: fmt.Sprintf("larger than %d bytes", maxBody)}
}

// checkContentType accepts application/json with no parameter but charset=utf-8, and
// otherwise says why not.
func checkContentType(header string) string {
	if header == "" {
		return "missing; must be application/json"
	}
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || mediaType != "application/json" {
		return fmt.Sprintf("%q is not application/json", header)
	}
	for _, name := range slices.Sorted(maps.Keys(params)) { // sorted: the same answer every time
		if name != "charset" || !strings.EqualFold(params[name], "utf-8") {
			return fmt.Sprintf("parameter %s=%q is not supported; JSON is UTF-8", name, params[name])
		}
	}
	return ""
}

// Write answers with body as JSON. Answers are never cached: they hold a tenant's data.
func Write(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body) // the client may be gone; nothing to do about it
}
