package integration

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"
	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
)

// buildBinary builds one of the project's real commands.
func buildBinary(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-tags=goolm -buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs the service on a config and returns its exit code and stderr.
func runBinary(t *testing.T, bin, configPath string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", configPath)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	return 0, string(out)
}

// editConfig writes a changed copy of the deployment's config.
func editConfig(t *testing.T, d *deploy.Deployment, edit func(*config.Config)) string {
	t.Helper()
	cfg, err := config.Load(d.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	// The service's own database, where its cross-signing identity is.
	cfg.Database.URI = d.Config.ResolvePath(d.Config.Database.URI)
	edit(cfg)
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err = os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExitCodes: fatal start-up problems end the real binary with distinct codes and
// a hint naming the fix.
func TestExitCodes(t *testing.T) {
	d := newDeployment(t, "sqlite", nil)
	d.StopService()
	bin := buildBinary(t, "contactcenter")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	foreignDB := filepath.Join(t.TempDir(), "other.db")
	db, err := dbutil.NewWithDialect("file:"+foreignDB, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = db.Exec(context.Background(), `CREATE TABLE roomserver_rooms (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	cases := []struct {
		name string
		edit func(*config.Config)
		code int
		hint string
	}{
		{"invalid config", func(c *config.Config) { c.Database.Type = "mysql" }, bridge.ExitConfig, "config.example.yaml"},
		{"registration not installed", func(c *config.Config) {
			// The customer-side homeserver never had the registration installed.
			c.Homeserver.Address, c.Homeserver.Domain = d.Bed.Customer.URL, d.Bed.Customer.ServerName
		}, bridge.ExitUnknownToken, "install the registration"},
		{"tenant outside the namespace", func(c *config.Config) {
			extra := c.Tenants[0]
			extra.ID, extra.BusinessLocalpart = "globex", "globex"
			c.Tenants = append(c.Tenants, extra)
		}, bridge.ExitExclusive, "regenerate the registration"},
		{"database of another program", func(c *config.Config) { c.Database.URI = foreignDB }, bridge.ExitDatabaseNotOwned, "database of its own"},
		{"listener taken", func(c *config.Config) { c.Appservice.Listen = busy.Addr().String() }, bridge.ExitListen, "appservice.listen"},
		{"cross-signing identity lost with the database", func(c *config.Config) {
			c.Database.URI = filepath.Join(t.TempDir(), "fresh.db")
		}, bridge.ExitCrossSigning, "-import-cross-signing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := runBinary(t, bin, editConfig(t, d, c.edit))
			if code != c.code || !strings.Contains(out, "hint: ") || !strings.Contains(out, c.hint) {
				t.Fatalf("exit %d, want %d with a hint containing %q; output:\n%s", code, c.code, c.hint, out)
			}
		})
	}
}
