package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeRegistration writes a minimal appservice registration whose exclusive user
// namespace is userRegex, and returns its path and as_token.
func writeRegistration(t *testing.T, dir, userRegex string) (path, asToken string) {
	t.Helper()
	port, err := FreePort() // nothing listens: Dendrite only needs a URL to push to
	if err != nil {
		t.Fatal(err)
	}
	asToken = "as-" + t.Name()
	reg := fmt.Sprintf(`id: testbed
url: http://127.0.0.1:%d
as_token: %q
hs_token: "hs-secret"
sender_localpart: tb_bot
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: %q
  aliases: []
  rooms: []
`, port, asToken, userRegex)
	path = filepath.Join(dir, "registration.yaml")
	if err := os.WriteFile(path, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, asToken
}

// registerGhost registers username through the appservice API with the as_token.
func registerGhost(ctx context.Context, s *Server, asToken, username string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"type": "m.login.application_service", "username": username})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/_matrix/client/v3/register", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+asToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String(), nil
}

// TestBusinessAppservicesFor installs a registration anchored to the business server's
// name, which is only known once Start has picked the federation port.
func TestBusinessAppservicesFor(t *testing.T) {
	dir := t.TempDir()
	var asToken string
	b := startBed(t, Options{BusinessAppservicesFor: func(business *Server) ([]string, error) {
		var path string
		path, asToken = writeRegistration(t, dir, "^@tb_.*:"+regexp.QuoteMeta(business.ServerName)+"$")
		return []string{path}, nil
	}})
	ctx := testContext(t, 30*time.Second)

	code, body, err := registerGhost(ctx, b.Business, asToken, "tb_x")
	if err != nil || code != http.StatusOK {
		t.Fatalf("register tb_x as appservice: %d %s %v", code, body, err)
	}
	if !strings.Contains(body, "@tb_x:"+b.Business.ServerName) {
		t.Fatalf("unexpected register response %s", body)
	}
	// Outside the namespace the appservice must be refused, proving the regex is in force.
	if code, body, _ := registerGhost(ctx, b.Business, asToken, "other"); code == http.StatusOK {
		t.Fatalf("register outside the namespace succeeded: %s", body)
	}
	// The customer server knows nothing of this appservice.
	if code, body, _ := registerGhost(ctx, b.Customer, asToken, "tb_y"); code == http.StatusOK {
		t.Fatalf("customer server accepted the business as_token: %s", body)
	}
}

// TestBusinessAppservices passes a registration file directly. Its regex cannot name the
// federation port before Start, so it accepts any port; that is fine for checking the
// file is installed, not for production use.
func TestBusinessAppservices(t *testing.T) {
	path, asToken := writeRegistration(t, t.TempDir(), `^@tb_.*:localhost:[0-9]+$`)
	b := startBed(t, Options{BusinessAppservices: []string{path}})
	ctx := testContext(t, 30*time.Second)
	if code, body, err := registerGhost(ctx, b.Business, asToken, "tb_x"); err != nil || code != http.StatusOK {
		t.Fatalf("register tb_x as appservice: %d %s %v", code, body, err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
