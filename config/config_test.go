package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
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

// The example registration in the repository carries no usable tokens: installed as
// it is, it cannot match any service's config.
func TestCommittedRegistrationHasNoTokens(t *testing.T) {
	committed, err := appservice.LoadRegistration("../registration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"as_token": committed.AppToken, "hs_token": committed.ServerToken} {
		if token != config.ExampleRegistrationToken {
			t.Errorf("%s is %q, want the placeholder %q", name, token, config.ExampleRegistrationToken)
		}
	}
}

// -g on a config and a registration that exist world-readable leaves both readable by
// their owner alone.
func TestGeneratedFilesAreOwnerOnly(t *testing.T) {
	path := writeExample(t)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	regPath := filepath.Join(filepath.Dir(path), "registration.yaml")
	if err := os.WriteFile(regPath, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.FillGenerated(path)
	if err != nil {
		t.Fatal(err)
	}
	if err = cfg.SaveRegistration(regPath); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, regPath} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), info.Mode().Perm())
		}
	}
}

// Weak hand-written secrets are refused: each must be worth 32 random bytes.
func TestWeakSecretsRefused(t *testing.T) {
	path := writeExample(t)
	cfg, _, err := config.FillGenerated(path)
	if err != nil {
		t.Fatal(err)
	}
	if err = cfg.Validate(true); err != nil {
		t.Fatalf("generated secrets refused: %v", err)
	}
	for _, weak := range []string{"pseudonym", "bench-pseudonym-key", strings.Repeat("ab", 40), "0123456789abcdef0123456789abcdef"} {
		c := *cfg
		c.Privacy.PseudonymKey, c.Encryption.PickleKey, c.Appservice.HSToken = weak, weak, weak
		err := c.Validate(true)
		for _, key := range []string{"privacy.pseudonym_key", "encryption.pickle_key", "appservice.hs_token"} {
			if err == nil || !strings.Contains(err.Error(), key+" is too weak") {
				t.Errorf("%s = %q accepted: %v", key, weak, err)
			}
		}
	}
	// 43 characters of base64 (32 bytes) and 64 of hex are enough.
	c := *cfg
	c.Privacy.PseudonymKey = "q3J7-Zx_9LmP2Wc8Rv6Yb3Nk5Hd1Gf0JsTa4Ue7Io2B"
	c.Encryption.PickleKey = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	if err := c.Validate(true); err != nil {
		t.Errorf("strong secrets refused: %v", err)
	}
}

// A consent list no prompt can ask is refused at load, not at every conversation start.
func TestUnaskableConsentListsRefused(t *testing.T) {
	cfg := config.Example()
	for i := range 10 {
		cfg.Tenants[0].Consent = append(cfg.Tenants[0].Consent, consent.Purpose{Category: consent.Category(fmt.Sprintf("cat%d", i)), Purpose: "why"})
	}
	if err := cfg.Validate(false); err == nil || !strings.Contains(err.Error(), "at most 9") {
		t.Errorf("ten categories: %v", err)
	}
	cfg.Tenants[0].Consent = []consent.Purpose{{Category: "remember", Purpose: "why"}}
	if err := cfg.Validate(false); err == nil || !strings.Contains(err.Error(), "answer word") {
		t.Errorf("a category named remember: %v", err)
	}
}
