package bridge

import (
	"encoding/json"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/olm"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
)

func newSeeds(t *testing.T) crypto.CrossSigningSeeds {
	t.Helper()
	var keys crypto.CrossSigningKeysCache
	var err error
	for _, k := range []*olm.PKSigning{&keys.MasterKey, &keys.SelfSigningKey, &keys.UserSigningKey} {
		if *k, err = olm.NewPKSigning(); err != nil {
			t.Fatal(err)
		}
	}
	return keys.Seeds()
}

// The seeds are stored sealed, bound to their user, and come back only with the same
// pickle key; a row whose master key does not match its seeds is refused.
func TestCrossSigningSeedsSealed(t *testing.T) {
	seeds := newSeeds(t)
	row, err := sealSeeds("pickle", "@acme:example.com", seeds)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(seeds)
	if row.Seeds == "" || json.Valid([]byte(row.Seeds)) || strings.Contains(row.Seeds, string(plain)) {
		t.Fatalf("seeds stored in the clear: %s", row.Seeds)
	}
	got, err := openSeeds("pickle", row)
	if err != nil || string(got.MasterKey) != string(seeds.MasterKey) {
		t.Fatalf("open: %v", err)
	}
	if _, err = openSeeds("another pickle key", row); err == nil {
		t.Error("opened with the wrong pickle key")
	}
	moved := *row
	moved.UserID = "@globex:example.com"
	if _, err = openSeeds("pickle", &moved); err == nil {
		t.Error("a row moved to another user opened")
	}
	other, _ := sealSeeds("pickle", "@acme:example.com", newSeeds(t))
	mixed := *row
	mixed.Seeds = other.Seeds
	if _, err = openSeeds("pickle", &mixed); err == nil {
		t.Error("seeds of another master key were accepted for this row")
	}
}

// The key upload's user-interactive auth: a dummy stage where offered, the configured
// password where a password is asked, nothing otherwise (the start then fails).
func TestCrossSigningAuth(t *testing.T) {
	flows := func(stages ...mautrix.AuthType) *mautrix.RespUserInteractive {
		uia := &mautrix.RespUserInteractive{Session: "s1"}
		for _, s := range stages {
			uia.Flows = append(uia.Flows, mautrix.UIAFlow{Stages: []mautrix.AuthType{s}})
		}
		return uia
	}
	withPassword := &Tenant{Tenant: &config.Tenant{AccountPassword: "secret"}, UserID: id.UserID("@acme:example.com")}
	without := &Tenant{Tenant: &config.Tenant{}, UserID: id.UserID("@acme:example.com")}

	if auth, ok := without.crossSigningAuth(flows(mautrix.AuthTypeDummy)).(mautrix.BaseAuthData); !ok || auth.Type != mautrix.AuthTypeDummy || auth.Session != "s1" {
		t.Errorf("dummy stage: %#v", auth)
	}
	auth, ok := withPassword.crossSigningAuth(flows(mautrix.AuthTypePassword)).(map[string]any)
	if !ok || auth["password"] != "secret" || auth["session"] != "s1" ||
		auth["identifier"].(mautrix.UserIdentifier).User != "@acme:example.com" {
		t.Errorf("password stage: %#v", auth)
	}
	if got := without.crossSigningAuth(flows(mautrix.AuthTypePassword)); got != nil {
		t.Errorf("password asked, none configured: %#v, want nil", got)
	}
	if got := withPassword.crossSigningAuth(flows("m.login.sso")); got != nil {
		t.Errorf("an unsupported stage: %#v, want nil", got)
	}
}
