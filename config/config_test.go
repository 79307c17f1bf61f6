package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/routing"
)

func writeExample(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, contactcenter.ExampleConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExampleIsValidButNeedsSecrets(t *testing.T) {
	cfg := config.Example()
	if err := cfg.Validate(false); err != nil {
		t.Fatalf("example config invalid: %v", err)
	}
	err := cfg.Validate(true)
	if err == nil || !strings.Contains(err.Error(), "as_token") || !strings.Contains(err.Error(), "pickle_key") || !strings.Contains(err.Error(), "pseudonym_key") {
		t.Fatalf("want errors about missing secrets, got %v", err)
	}
}

func TestFillGeneratedKeepsCommentsAndIsStable(t *testing.T) {
	path := writeExample(t)
	cfg, changed, err := config.FillGenerated(path)
	if err != nil || !changed {
		t.Fatalf("FillGenerated: changed=%v err=%v", changed, err)
	}
	if err = cfg.Validate(true); err != nil {
		t.Fatalf("after generation: %v", err)
	}
	if len(cfg.Appservice.ASToken) != 64 || cfg.Appservice.ASToken == cfg.Appservice.HSToken {
		t.Fatalf("bad tokens: %q %q", cfg.Appservice.ASToken, cfg.Appservice.HSToken)
	}
	if cfg.Appservice.SenderLocalpart == cfg.Appservice.BotUsername || cfg.Appservice.SenderLocalpart != strings.ToLower(cfg.Appservice.SenderLocalpart) {
		t.Fatalf("sender_localpart must be random and lowercase, got %q", cfg.Appservice.SenderLocalpart)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "# Tokens shared with the homeserver.") {
		t.Fatal("comments were lost")
	}
	again, changed, err := config.FillGenerated(path)
	if err != nil || changed || again.Appservice.ASToken != cfg.Appservice.ASToken {
		t.Fatalf("second run must change nothing: changed=%v err=%v", changed, err)
	}
}

func TestExampleStaffAndConsent(t *testing.T) {
	acme := config.Example().Tenants[0]
	if len(acme.Staff) != 2 || acme.Staff[0].Skills["cards"] != 4 || acme.Staff[1].Role != routing.RoleSupervisor {
		t.Fatalf("example staff not read: %+v", acme.Staff)
	}
	if len(acme.Purposes()) != 6 {
		t.Fatalf("empty consent list must mean the six defaults, got %v", acme.Purposes())
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	data := strings.Replace(string(contactcenter.ExampleConfig), "    domain: example.com", "    domian: example.com", 1)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path); err == nil || !strings.Contains(err.Error(), "domian") {
		t.Fatalf("want an error naming the unknown key, got %v", err)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	cfg := config.Example()
	cfg.Tenants = append(cfg.Tenants, cfg.Tenants[0])
	cfg.Tenants = append(cfg.Tenants, config.Tenant{ID: "Bad ID", Name: "x", Welcome: "x", BusinessLocalpart: "cc_sneaky",
		Staff: []routing.Staff{{UserID: "@acme:example.com", Name: "Impostor", Role: routing.RoleAgent}, {UserID: "nobody", Role: "boss"},
			{UserID: "@remote:elsewhere.org", Name: "Remote", Role: routing.RoleAgent, Capacity: -1}}})
	cfg.Database.Type = "mysql"
	err := cfg.Validate(false)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{`"acme" is used twice`, `"acme" is already taken`, `"Bad ID"`, "ghost namespace", "mysql",
		"@acme:example.com is one of the service's own users", `"nobody" is not a Matrix user ID`,
		"@remote:elsewhere.org is on another homeserver; set allow_remote_agents", "capacity -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestRegistrationNamespacesAreAnchored(t *testing.T) {
	cfg := config.Example()
	reg := cfg.Registration()
	cases := map[id.UserID]bool{
		"@acme:example.com":          true,
		"@contactcenter:example.com": true,
		"@cc_4f2a:example.com":       true,
		"@acme:example.com.evil.org": false,
		"@cc_4f2a:other.org":         false,
		"@xacme:example.com":         false,
		"@cc_:example.com":           false,
		"@alice:example.com":         false,
		"@acme:examplexcom":          false,
	}
	for userID, want := range cases {
		got := false
		for _, ns := range reg.Namespaces.UserIDs {
			if ns.Exclusive && regexpMatch(t, ns.Regex, userID.String()) {
				got = true
			}
		}
		if got != want {
			t.Errorf("%s: in namespace = %v, want %v", userID, got, want)
		}
	}
}

// TestCommittedRegistrationMatchesExample keeps registration.yaml (the example in the
// repository) in step with config.example.yaml.
func TestCommittedRegistrationMatchesExample(t *testing.T) {
	committed, err := appservice.LoadRegistration("../registration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Example().Registration()
	if committed.ID != want.ID || committed.URL != want.URL || committed.RateLimited == nil || *committed.RateLimited {
		t.Fatalf("registration.yaml header differs from the example config: %+v", committed)
	}
	if len(committed.Namespaces.UserIDs) != len(want.Namespaces.UserIDs) {
		t.Fatalf("namespaces differ: %v vs %v", committed.Namespaces.UserIDs, want.Namespaces.UserIDs)
	}
	for i := range want.Namespaces.UserIDs {
		if committed.Namespaces.UserIDs[i].Regex != want.Namespaces.UserIDs[i].Regex {
			t.Errorf("namespace %d: %s, want %s (run make registration.yaml)", i, committed.Namespaces.UserIDs[i].Regex, want.Namespaces.UserIDs[i].Regex)
		}
	}
}
