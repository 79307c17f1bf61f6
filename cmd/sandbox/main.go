// Command sandbox starts a complete local deployment for people and scripts: two
// federating homeservers, the service on SQLite, demo tenants with agents, a supervisor
// and customers. It writes sandbox.json when ready and runs until interrupted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/dashboard"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
)

// marker tells a directory the sandbox made (and may clear) from any other.
const marker = ".contactcenter-sandbox"

func main() {
	start := time.Now()
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"}).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	dir, err := prepareDir()
	if err != nil {
		fail(err)
	}
	fmt.Printf("Sandbox directory: %s\n", dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	keys, adminKeys := map[string]string{}, map[string]string{}
	configure := func(cfg *config.Config) {
		configureDemo(cfg, keys)
		configureOutbound(cfg, adminKeys)
	}
	d, err := deploy.Start(ctx, deploy.Options{Dir: dir, Configure: configure, Log: log})
	if err != nil {
		fail(err)
	}
	defer d.Close()
	manifest, err := populate(ctx, d, keys)
	if err != nil {
		fail(err)
	}
	manifest.AdminAPI = &API{URL: "http://" + d.Service.Addr() + adminapi.PathPrefix, Keys: adminKeys}
	if addr := d.Service.MetricsAddr(); addr != "" {
		manifest.Metrics = &Metrics{URL: "http://" + addr + "/metrics"}
	}
	manifest.Ready = true
	data, _ := json.MarshalIndent(manifest, "", "  ")
	if err = os.WriteFile(filepath.Join(dir, "sandbox.json"), data, 0o600); err != nil {
		fail(err)
	}
	printWelcome(manifest, dir, time.Since(start))
	<-ctx.Done()
	fmt.Println("\nStopping the sandbox…")
}

// prepareDir returns $SANDBOX_DIR (default ./sandbox-data), emptied if an earlier
// sandbox made it; it refuses to empty a directory it did not make.
func prepareDir() (string, error) {
	dir := os.Getenv("SANDBOX_DIR")
	if dir == "" {
		dir = "sandbox-data"
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		if _, err = os.Stat(filepath.Join(dir, marker)); err != nil {
			return "", fmt.Errorf("%s is not empty and was not made by the sandbox; choose another SANDBOX_DIR", dir)
		}
		if err = os.RemoveAll(dir); err != nil {
			return "", err
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err = os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, marker), nil, 0o600)
}

// configureDemo gives the sandbox two tenants, so that tenant isolation can be tried,
// lists the demo staff as each tenant's agents and supervisors, gives each tenant
// a context API key (keys: tenant ID → key; the config keeps only the hash) and turns
// the dashboard and the metrics listener on.
func configureDemo(cfg *config.Config, keys map[string]string) {
	cfg.Logging.Level = "info"
	cfg.Tenants[0].Staff = nil
	globex := cfg.Tenants[0]
	globex.ID, globex.Name, globex.BusinessLocalpart, globex.DisplayName = "globex", "Globex", "globex", "Globex Insurance"
	globex.Welcome = "Welcome to **Globex Insurance**. How can we help?"
	globex.Closing = "Thank you for contacting Globex."
	cfg.Tenants = append(cfg.Tenants, globex)
	for _, u := range demoUsers {
		if !u.business {
			continue
		}
		t := cfg.TenantByID(u.tenant)
		t.Staff = append(t.Staff, routing.Staff{
			UserID: fmt.Sprintf("@%s:%s", u.localpart, cfg.Homeserver.Domain), Name: u.name, Role: routing.Role(u.role),
		})
	}
	// The dashboard on the service's own listener; the homeservers are on loopback with
	// self-signed certificates, which only a test bed may accept.
	cfg.Dashboard.PublicURL = cfg.Appservice.Address + dashboard.PathPrefix
	cfg.Dashboard.FederationInsecureTLS, cfg.Dashboard.FederationPrivateAddresses = true, true
	// Prometheus metrics on a free loopback port (sandbox.json's metrics.url).
	cfg.Metrics.Listen = "127.0.0.1:0"
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		keys[t.ID] = contextapi.NewKey()
		t.APIKeys = []string{contextapi.KeyHashConfig(keys[t.ID])}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sandbox:", err)
	os.Exit(1)
}
