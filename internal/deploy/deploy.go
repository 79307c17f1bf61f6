// Package deploy starts a complete local deployment: the two federating homeservers of
// the test bed, a generated config and registration, and the service. The sandbox, the
// integration tests and the benchmarks all start the system this one way.
package deploy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/testbed"
)

// Options shape a deployment.
type Options struct {
	// Dir holds everything; a temp dir when empty (removed by Close).
	Dir string
	// Database: "sqlite" (a file in Dir) or "postgres" with PostgresURI.
	Database    string
	PostgresURI string
	// Configure may change the generated config before the service starts
	// (tenants, encryption...). EditConfig changes it later.
	Configure func(cfg *config.Config)
	// NoService starts the homeservers only.
	NoService bool
	// MoreAppservices, if set, returns registration files of other appservices for
	// the business server (a benchmark's baseline bot), once its name is known.
	MoreAppservices func(business *testbed.Server) ([]string, error)
	Log             zerolog.Logger
}

// Deployment is a running local system.
type Deployment struct {
	Bed              *testbed.Bed
	Config           *config.Config
	ConfigPath       string
	RegistrationPath string
	Service          *bridge.Bridge
	Dir              string

	opts    Options
	tempDir bool
}

// Start starts the homeservers and, unless NoService, the service.
func Start(ctx context.Context, opts Options) (d *Deployment, err error) {
	d = &Deployment{opts: opts, Dir: opts.Dir}
	if d.Dir == "" {
		if d.Dir, err = os.MkdirTemp("", "contactcenter-"); err != nil {
			return nil, err
		}
		d.tempDir = true
	}
	started := d
	defer func() {
		if err != nil {
			started.Close() // d is nil by now: the returns below hand back nil
		}
	}()
	d.ConfigPath = filepath.Join(d.Dir, "config.yaml")
	d.RegistrationPath = filepath.Join(d.Dir, "registration.yaml")
	port, err := testbed.FreePort()
	if err != nil {
		return nil, err
	}
	d.Bed, err = testbed.Start(ctx, testbed.Options{
		Dir:     filepath.Join(d.Dir, "homeservers"),
		KeepDir: true,
		// The registration's namespaces name the business server, whose name is only
		// known once the test bed has chosen its ports.
		BusinessAppservicesFor: func(business *testbed.Server) ([]string, error) {
			if err := d.writeConfig(business, port); err != nil || opts.MoreAppservices == nil {
				return []string{d.RegistrationPath}, err
			}
			more, err := opts.MoreAppservices(business)
			return append([]string{d.RegistrationPath}, more...), err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("test bed: %w", err)
	}
	if !opts.NoService {
		if err = d.StartService(ctx); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// writeConfig writes the config for this deployment, fills its secrets and writes the
// registration, exactly as an operator would with -e and -g.
func (d *Deployment) writeConfig(business *testbed.Server, port int) error {
	cfg := config.Example()
	cfg.Homeserver.Address = business.URL
	cfg.Homeserver.Domain = business.ServerName
	cfg.Appservice.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.Appservice.Address = "http://" + cfg.Appservice.Listen
	cfg.Logging.Level = "debug"
	// The example's staff live on example.com: a deployment on loopback must never
	// try to reach them.
	for i := range cfg.Tenants {
		cfg.Tenants[i].Staff = nil
	}
	switch d.opts.Database {
	case "", "sqlite":
		cfg.Database.Type, cfg.Database.URI = "sqlite", "contactcenter.db"
	case "postgres":
		cfg.Database.Type, cfg.Database.URI = "postgres", d.opts.PostgresURI
	default:
		return fmt.Errorf("unknown database %q", d.opts.Database)
	}
	if d.opts.Configure != nil {
		d.opts.Configure(cfg)
	}
	// Dendrite asks for a password before a business identity may publish its
	// cross-signing keys; StartService sets it on the account, as an admin would.
	for i := range cfg.Tenants {
		if cfg.Tenants[i].AccountPassword == "" {
			cfg.Tenants[i].AccountPassword = rand.Text()
		}
	}
	if err := writeYAML(d.ConfigPath, cfg); err != nil {
		return err
	}
	var err error
	if d.Config, _, err = config.FillGenerated(d.ConfigPath); err != nil {
		return err
	}
	if err = d.Config.Validate(true); err != nil {
		return err
	}
	return d.Config.SaveRegistration(d.RegistrationPath)
}

// EditConfig changes the config file; the change applies at the next StartService.
// Changes to users or the domain need a new registration, which this does not write.
func (d *Deployment) EditConfig(edit func(*config.Config)) error {
	cfg, err := config.Load(d.ConfigPath)
	if err != nil {
		return err
	}
	edit(cfg)
	if err = writeYAML(d.ConfigPath, cfg); err != nil {
		return err
	}
	d.Config = cfg
	return nil
}

func writeYAML(path string, cfg *config.Config) error {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// StartService starts the service (again) on the deployment's config and database;
// prepare may set fields of the service before it starts.
func (d *Deployment) StartService(ctx context.Context, prepare ...func(*bridge.Bridge)) error {
	if d.Service != nil {
		return errors.New("service already running")
	}
	cfg, err := config.Load(d.ConfigPath)
	if err != nil {
		return err
	}
	for i := range cfg.Tenants {
		if pw := cfg.Tenants[i].AccountPassword; pw != "" {
			err = d.Bed.Business.SetAppserviceUserPassword(ctx, cfg.Appservice.ASToken, cfg.BusinessUserID(&cfg.Tenants[i]).String(), pw)
			if err != nil {
				return err
			}
		}
	}
	svc := bridge.New(cfg, d.opts.Log)
	for _, fn := range prepare {
		fn(svc)
	}
	if err = svc.Start(d.opts.Log.WithContext(ctx)); err != nil {
		return err
	}
	d.Service, d.Config = svc, cfg
	return nil
}

// StopService stops the service; the homeservers keep running.
func (d *Deployment) StopService() {
	if d.Service != nil {
		d.Service.Stop()
		d.Service = nil
	}
}

// Close stops everything and removes a temp dir.
func (d *Deployment) Close() {
	d.StopService()
	if d.Bed != nil {
		_ = d.Bed.Close()
	}
	if d.tempDir {
		_ = os.RemoveAll(d.Dir)
	}
}
