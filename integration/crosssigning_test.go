package integration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

// TestCrossSigningIdentity: the business identity keeps one cross-signing identity
// through restarts, a replaced device and a restored database, and a customer whose
// client excludes insecure devices (matrix-js-sdk as Element runs it) trusts every
// device the service uses without ever seeing the identity change.
func TestCrossSigningIdentity(t *testing.T) {
	d := newDeployment(t, "sqlite", nil)
	ctx := context.Background()
	business := businessUser(d)
	customer := newJSCustomer(t, d, business)
	room := customer.room.String()
	if _, err := customer.js.WaitForMessage(ctx, room, jsclient.MessageFilter{Sender: business.String(), Contains: "ACME Support"}, welcomeTimeout); err != nil {
		t.Fatalf("the welcome: %v", err)
	}
	master := publishedMaster(t, d)
	stored, err := d.Service.DB.CrossSigning.Get(ctx, business)
	if err != nil || stored == nil || stored.MasterKey != master {
		t.Fatalf("stored identity %+v (%v), published master %q", stored, err, master)
	}
	if strings.Contains(stored.Seeds, master) {
		t.Fatal("the stored seeds are not sealed")
	}
	device := d.Service.TenantByID("acme").Client.DeviceID
	assertCustomerTrusts(t, customer, business, device)

	t.Run("restart", func(t *testing.T) {
		d.StopService()
		if err := d.StartService(ctx); err != nil {
			t.Fatal(err)
		}
		if got := publishedMaster(t, d); got != master {
			t.Fatalf("master key changed over a restart: %s -> %s", master, got)
		}
		if got := d.Service.TenantByID("acme").Client.DeviceID; got != device {
			t.Fatalf("device changed over a restart: %s -> %s", device, got)
		}
		assertCustomerTrusts(t, customer, business, device)
		privacyRoundTrip(t, customer, business)
	})

	t.Run("device replaced", func(t *testing.T) {
		replaceBusinessDevice(t, d, business)
		newDevice := d.Service.TenantByID("acme").Client.DeviceID
		if newDevice == device {
			t.Fatalf("the device was not replaced (%s)", device)
		}
		if got := publishedMaster(t, d); got != master {
			t.Fatalf("a new device brought a new identity: %s -> %s", master, got)
		}
		assertCustomerTrusts(t, customer, business, newDevice)
		privacyRoundTrip(t, customer, business)
	})

	t.Run("export, wipe, import", func(t *testing.T) {
		backup := filepath.Join(t.TempDir(), "cross-signing.json")
		n, err := bridge.ExportCrossSigning(ctx, d.Config, testLog(t), backup)
		if err != nil || n != 1 {
			t.Fatalf("export: %d identities, %v", n, err)
		}
		if info, err := os.Stat(backup); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("backup file mode %v (%v), want 0600", info.Mode().Perm(), err)
		}
		d.StopService()
		wipeSQLite(t, d)
		// Without the backup the service refuses to start: a new identity would make
		// every customer's client warn.
		err = d.StartService(ctx)
		assertStartError(t, err, bridge.ExitCrossSigning, "-import-cross-signing")
		wipeSQLite(t, d)
		if n, err = bridge.ImportCrossSigning(ctx, d.Config, testLog(t), backup); err != nil || n != 1 {
			t.Fatalf("import: %d identities, %v", n, err)
		}
		if n, err = bridge.ImportCrossSigning(ctx, d.Config, testLog(t), backup); err != nil || n != 0 {
			t.Fatalf("importing again: %d identities stored, %v; want 0 and no error", n, err)
		}
		if err = d.StartService(ctx); err != nil {
			t.Fatal(err)
		}
		if got := publishedMaster(t, d); got != master {
			t.Fatalf("restored identity differs: %s -> %s", master, got)
		}
		// The wiped database forgot the old DM: the customer opens a new one, and the
		// service's fresh device is trusted under the same identity.
		newRoom, err := customer.js.CreateDM(ctx, business.String(), true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = customer.js.WaitForMessage(ctx, newRoom, jsclient.MessageFilter{Sender: business.String(), Contains: "ACME Support"}, welcomeTimeout); err != nil {
			t.Fatalf("the welcome after the restore: %v", err)
		}
		assertCustomerTrusts(t, customer, business, d.Service.TenantByID("acme").Client.DeviceID)
	})
}

// TestCrossSigningNeedsPassword: on a homeserver that asks for a password before
// publishing cross-signing keys (Dendrite), a start without the configured password
// fails with its exit code and a hint, instead of running unreadable.
func TestCrossSigningNeedsPassword(t *testing.T) {
	ctx := context.Background()
	d := newHomeserversOnly(t, testLog(t))
	if err := d.EditConfig(func(cfg *config.Config) {
		for i := range cfg.Tenants {
			cfg.Tenants[i].AccountPassword = ""
		}
	}); err != nil {
		t.Fatal(err)
	}
	err := d.StartService(ctx)
	assertStartError(t, err, bridge.ExitCrossSigning, "account_password")
	if d.Service != nil {
		t.Fatal("the service runs without a cross-signing identity")
	}
}

// publishedMaster is the business identity's master key as its homeserver serves it.
func publishedMaster(t *testing.T, d *deploy.Deployment) string {
	t.Helper()
	business := businessUser(d)
	resp, err := d.Service.TenantByID("acme").Client.QueryKeys(context.Background(),
		&mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{business: {}}})
	if err != nil {
		t.Fatal(err)
	}
	mk, ok := resp.MasterKeys[business]
	if !ok {
		t.Fatal("the business identity has no published master key")
	}
	return mk.FirstKey().String()
}

// assertCustomerTrusts checks the customer's client sees the business identity's
// device as signed by its owner, and no identity change.
func assertCustomerTrusts(t *testing.T, c *jsCustomer, business id.UserID, device id.DeviceID) {
	t.Helper()
	var trust *jsclient.Trust
	eventually(t, welcomeTimeout, "the customer's client to see "+device.String()+" signed by its owner", func() (bool, error) {
		var err error
		trust, err = c.js.Trust(context.Background(), business.String())
		if err != nil {
			return false, err
		}
		dev := trust.Device(device.String())
		return dev != nil && dev.SignedByOwner, nil
	})
	if !trust.Known || !trust.HasCrossSigningKeys {
		t.Fatalf("the customer's client does not know the business identity: %+v", trust)
	}
	if trust.NeedsUserApproval {
		t.Fatalf("the customer's client reports that the business identity changed: %+v", trust)
	}
}

// privacyRoundTrip proves both directions still decrypt: the service reads the
// customer's !privacy and the customer reads the answer.
func privacyRoundTrip(t *testing.T, c *jsCustomer, business id.UserID) {
	t.Helper()
	ctx := context.Background()
	sent, err := c.js.SendText(ctx, c.room.String(), "!privacy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.js.WaitForMessage(ctx, c.room.String(), jsclient.MessageFilter{Sender: business.String(), AfterEventID: sent}, welcomeTimeout); err != nil {
		t.Fatalf("no readable answer to !privacy: %v", err)
	}
}

// replaceBusinessDevice makes the service start with a new device: the old one is
// logged out and the service's device records are gone, as after losing the crypto
// store while keeping the rest.
func replaceBusinessDevice(t *testing.T, d *deploy.Deployment, business id.UserID) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Service.TenantByID("acme").Client.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	db := d.Service.DB
	for _, q := range []string{`DELETE FROM business_device WHERE user_id = $1`, `DELETE FROM crypto_account WHERE account_id = $1`} {
		if _, err := db.Exec(ctx, q, business.String()); err != nil {
			t.Fatal(err)
		}
	}
	d.StopService()
	if err := d.StartService(ctx); err != nil {
		t.Fatal(err)
	}
}

// wipeSQLite deletes the service's SQLite database.
func wipeSQLite(t *testing.T, d *deploy.Deployment) {
	t.Helper()
	path := d.Config.ResolvePath(d.Config.Database.URI)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

// assertStartError checks a start failed with the exit code and a hint naming want.
func assertStartError(t *testing.T, err error, code int, want string) {
	t.Helper()
	var startErr *bridge.StartError
	if !errors.As(err, &startErr) || startErr.Code != code || !strings.Contains(startErr.Hint, want) {
		t.Fatalf("start error %v (%+v), want exit code %d with a hint naming %q", err, startErr, code, want)
	}
}
