package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/internal/deploy"
)

// withAPIKeys gives every tenant a context API key; keys maps tenant ID → key.
func withAPIKeys(keys map[string]string) func(*config.Config) {
	return func(cfg *config.Config) {
		for i := range cfg.Tenants {
			t := &cfg.Tenants[i]
			keys[t.ID] = contextapi.NewKey()
			t.APIKeys = []string{contextapi.KeyHashConfig(keys[t.ID])}
		}
	}
}

// callAPI calls the service's context API and returns the status and decoded answer.
func callAPI(t *testing.T, d *deploy.Deployment, key, method, path string, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	if raw, ok := body.(string); ok {
		data = []byte(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, "http://"+d.Service.Addr()+contextapi.PathPrefix+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer map[string]any
	_ = json.Unmarshal(raw, &answer)
	return resp.StatusCode, answer
}

// mustAPI calls the API and fails unless it answers 200.
func mustAPI(t *testing.T, d *deploy.Deployment, key, method, path string, body any) map[string]any {
	t.Helper()
	status, answer := callAPI(t, d, key, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %v", method, path, status, answer)
	}
	return answer
}
