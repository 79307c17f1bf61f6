package adminapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// The description parses as JSON, is OpenAPI 3.1, is served at openapi.json without
// a key, and lists exactly the routes the handler serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var spec struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &spec); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.1") {
		t.Errorf("openapi %q", spec.OpenAPI)
	}
	var described, served []string
	for path, ops := range spec.Paths {
		for method, op := range ops {
			if path != "/openapi.json" {
				described = append(described, strings.ToUpper(method)+" "+strings.TrimPrefix(path, "/"))
			}
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s has no responses", method, path)
			}
		}
	}
	for _, rt := range routes {
		served = append(served, rt.method+" "+rt.path)
	}
	slices.Sort(described)
	slices.Sort(served)
	if !slices.Equal(described, served) {
		t.Errorf("described %v\nserved    %v", described, served)
	}
	f := newFixture(t, dbtest.Open(t, "sqlite"))
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, PathPrefix+"openapi.json", nil))
	if w.Code != 200 || !json.Valid(w.Body.Bytes()) || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("served: %d %s", w.Code, w.Header())
	}
}
