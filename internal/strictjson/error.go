// Package strictjson reads the JSON bodies of API requests strictly, so that a
// client's mistake is refused by name rather than half understood, and writes JSON
// answers. Each API words the errors its own way; an Error holds what they need.
package strictjson

import "net/http"

// Kind is the sort of fault; each API maps it to its own errcode.
type Kind string

const (
	BadJSON              Kind = "bad_json"      // not one JSON object, a key given twice, or a value of the wrong type
	UnknownField         Kind = "unknown_field" // a key that is not a field of the request
	TooLarge             Kind = "too_large"
	UnsupportedMediaType Kind = "unsupported_media_type"
)

// Error is a refused request body.
type Error struct {
	Status int // the HTTP status to answer with
	Kind   Kind
	// Field is what is at fault: the JSON key as sent, "body" or "Content-Type".
	// It is empty only for an empty key (Kind UnknownField).
	Field string
	// Message says what is wrong with Field, without naming it.
	Message string
	// Detail is encoding/json's or the reader's own account, when there is one, for
	// APIs that pass it on.
	Detail string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Field + ": " + e.Message + ": " + e.Detail
	}
	return e.Field + ": " + e.Message
}

func badJSON(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Kind: BadJSON, Field: field, Message: msg}
}
