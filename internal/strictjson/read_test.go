package strictjson

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	const limit = 16
	tests := []struct {
		name        string
		contentType string // "-": none
		body        string
		chunked     bool // length unknown until read
		status      int  // 0: read
		kind        Kind
		field, msg  string
	}{
		{"json", "application/json", `{}`, false, 0, "", "", ""},
		{"utf-8", "application/json; charset=UTF-8", `{}`, false, 0, "", "", ""},
		{"at the limit", "application/json", strings.Repeat(" ", limit), true, 0, "", "", ""},
		{"no content type", "-", `{}`, false, 415, UnsupportedMediaType, "Content-Type", "missing; must be application/json"},
		{"text", "text/plain", `{}`, false, 415, UnsupportedMediaType, "Content-Type", `"text/plain" is not application/json`},
		{"bad media type", "application/json;;", `{}`, false, 415, UnsupportedMediaType, "Content-Type", `"application/json;;" is not application/json`},
		{"latin-1", "application/json; charset=latin1", `{}`, false, 415, UnsupportedMediaType, "Content-Type",
			`parameter charset="latin1" is not supported; JSON is UTF-8`},
		{"two parameters", "application/json; x=y; charset=utf-8", `{}`, false, 415, UnsupportedMediaType, "Content-Type",
			`parameter x="y" is not supported; JSON is UTF-8`},
		{"too large", "application/json", strings.Repeat(" ", limit+1), false, 413, TooLarge, "body", "larger than 16 bytes"},
		{"too large, chunked", "application/json", strings.Repeat(" ", limit+1), true, 413, TooLarge, "body", "larger than 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.contentType != "-" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			if tt.chunked {
				r.ContentLength = -1
			}
			body, err := Read(httptest.NewRecorder(), r, limit)
			if tt.status == 0 {
				if err != nil || string(body) != tt.body {
					t.Fatalf("Read = %q, %v", body, err)
				}
				return
			}
			if err == nil || err.Status != tt.status || err.Kind != tt.kind || err.Field != tt.field || err.Message != tt.msg {
				t.Fatalf("Read = %q, %+v; want %d %s %s %q", body, err, tt.status, tt.kind, tt.field, tt.msg)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadFails(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(failingReader{}))
	r.Header.Set("Content-Type", "application/json")
	_, err := Read(httptest.NewRecorder(), r, 16)
	if err == nil || err.Status != 400 || err.Kind != BadJSON || err.Field != "body" || err.Message != "could not be read" ||
		err.Detail != "connection reset" {
		t.Fatalf("Read = %+v", err)
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, http.StatusCreated, map[string]int{"id": 7})
	if w.Code != 201 || w.Body.String() != "{\"id\":7}\n" || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Write: %d %v %q", w.Code, w.Header(), w.Body)
	}
}
