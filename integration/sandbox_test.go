package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// sandboxManifest mirrors the documented sandbox.json (read as an outside tool would).
type sandboxManifest struct {
	Ready              bool `json:"ready"`
	CustomerHomeserver struct {
		URL        string `json:"url"`
		ServerName string `json:"server_name"`
	} `json:"customer_homeserver"`
	BusinessHomeserver struct {
		URL        string `json:"url"`
		ServerName string `json:"server_name"`
	} `json:"business_homeserver"`
	Tenants []struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		BusinessUser string `json:"business_user"`
	} `json:"tenants"`
	Users []struct {
		UserID         string `json:"user_id"`
		Password       string `json:"password"`
		Role           string `json:"role"`
		Tenant         string `json:"tenant"`
		Name           string `json:"name"`
		Identified     bool   `json:"identified"`
		AccountManager string `json:"account_manager"`
	} `json:"users"`
	API struct {
		URL  string            `json:"url"`
		Keys map[string]string `json:"keys"`
	} `json:"api"`
	AdminAPI struct {
		URL  string            `json:"url"`
		Keys map[string]string `json:"keys"`
	} `json:"admin_api"`
	Dashboard struct {
		URL string `json:"url"`
	} `json:"dashboard"`
	Metrics struct {
		URL string `json:"url"`
	} `json:"metrics"`
}

// TestSandbox runs the sandbox command as a newcomer would, checks sandbox.json, has
// the identified customer DM the tenant from a real (encrypting) client, then stops it
// with Ctrl-C and checks that the homeservers are gone.
func TestSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	bin := buildBinary(t, "sandbox")
	dir := filepath.Join(t.TempDir(), "sandbox")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "SANDBOX_DIR="+dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})

	var m sandboxManifest
	eventually(t, 90*time.Second, "sandbox.json to say ready", func() (bool, error) {
		data, err := os.ReadFile(filepath.Join(dir, "sandbox.json"))
		if err != nil {
			return false, nil
		}
		return true, json.Unmarshal(data, &m)
	})
	t.Logf("sandbox ready after %s (including process start)", time.Since(start).Round(time.Millisecond))
	if !m.Ready || m.CustomerHomeserver.URL == "" || m.BusinessHomeserver.ServerName == "" || len(m.Tenants) == 0 {
		t.Fatalf("incomplete manifest: %+v", m)
	}
	roles := map[string]int{}
	var alice, anonymous int = -1, -1
	for i, u := range m.Users {
		roles[u.Role]++
		if u.Role == "customer" && u.Identified && strings.HasSuffix(u.AccountManager, ":"+m.BusinessHomeserver.ServerName) {
			alice = i
		}
		if u.Role == "customer" && !u.Identified {
			anonymous = i
		}
		if u.Password == "" || u.Name == "" {
			t.Errorf("user without password or name: %+v", u)
		}
	}
	if roles["agent"] < 2 || roles["supervisor"] < 1 || alice < 0 || anonymous < 0 {
		t.Fatalf("want ≥2 agents, a supervisor, an identified and an anonymous customer; got %+v", m.Users)
	}
	if !strings.Contains(out.String(), m.Users[alice].Password) {
		t.Error("the sandbox must print how to log in")
	}

	ctx := context.Background()
	customer, err := mxclient.Login(ctx, mxclient.Options{
		HomeserverURL: m.CustomerHomeserver.URL, UserID: id.UserID(m.Users[alice].UserID), Password: m.Users[alice].Password,
		Encryption: true, Dir: t.TempDir(), Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer customer.Close()
	business := id.UserID(m.Tenants[0].BusinessUser)
	roomID, err := customer.CreateDM(ctx, business, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, func(evt *event.Event) bool {
		return evt.Sender == business && evt.Type == event.EventMessage && strings.Contains(evt.Content.AsMessage().Body, "Welcome")
	}); err != nil {
		t.Fatal(err)
	}
	// The sandbox told the context API who Alice is: she is asked for her identity.
	if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, func(evt *event.Event) bool {
		return evt.Sender == business && evt.Type == event.EventMessage && strings.Contains(evt.Content.AsMessage().Body, "**identity** —")
	}); err != nil {
		t.Fatalf("the identified customer's consent prompt: %v", err)
	}
	// The API and the tenant's key in sandbox.json work.
	req, _ := http.NewRequest(http.MethodPost, m.API.URL+"visitorcodes", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+m.API.Keys[m.Tenants[0].ID])
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the sandbox's context API: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	checkSandboxAdminAPI(t, m.AdminAPI.URL, m.AdminAPI.Keys)
	// The dashboard's page is served where sandbox.json says.
	if resp, err := http.Get(m.Dashboard.URL); err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("the sandbox's dashboard at %q: %v %v", m.Dashboard.URL, resp, err)
	} else {
		resp.Body.Close()
	}
	checkSandboxMetrics(t, m.Metrics.URL, m.Users[alice].UserID, roomID.String())

	if err = cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("sandbox did not stop on Ctrl-C; output:\n%s", out.String())
	}
	for _, url := range []string{m.CustomerHomeserver.URL, m.BusinessHomeserver.URL} {
		if resp, err := http.Get(url + "/_matrix/client/versions"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after the sandbox stopped", url)
		}
	}
}
