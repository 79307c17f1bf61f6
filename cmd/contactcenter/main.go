// Command contactcenter runs the contact center appservice.
//
//	contactcenter -e -c config.yaml                      write the example config
//	contactcenter -g -c config.yaml -r registration.yaml generate secrets and the registration
//	contactcenter -c config.yaml                         run
//	contactcenter -c config.yaml -export-cross-signing F back up the business identities' cross-signing keys
//	contactcenter -c config.yaml -import-cross-signing F restore them into a (fresh) database
//	contactcenter -new-api-key                           make a context API key and its config line
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter"
	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/contextapi"
)

func main() {
	configPath := flag.String("c", "config.yaml", "config file")
	writeExample := flag.Bool("e", false, "write the example config to -c and exit")
	generate := flag.Bool("g", false, "fill in generated secrets in -c, write the registration to -r and exit")
	registrationPath := flag.String("r", "registration.yaml", "where -g writes the registration")
	exportKeys := flag.String("export-cross-signing", "", "write the business identities' cross-signing keys to this file (0600) and exit")
	importKeys := flag.String("import-cross-signing", "", "restore cross-signing keys from a file -export-cross-signing wrote, and exit")
	newAPIKey := flag.Bool("new-api-key", false, "print a new context API key once, with the line for a tenant's api_keys, and exit")
	flag.Parse()

	switch {
	case *newAPIKey:
		printNewAPIKey(os.Stdout)
		os.Exit(0)
	case *writeExample:
		exit(writeExampleConfig(*configPath))
	case *generate:
		exit(generateRegistration(*configPath, *registrationPath))
	case *exportKeys != "":
		exit(crossSigningBackup(*configPath, *exportKeys, bridge.ExportCrossSigning, "Wrote %d cross-signing identities to %s. Keep the file safe: it holds private keys.\n"))
	case *importKeys != "":
		exit(crossSigningBackup(*configPath, *importKeys, bridge.ImportCrossSigning, "Restored %d cross-signing identities from %s.\n"))
	default:
		exit(run(*configPath))
	}
}

// exit prints a fatal error with its hint and leaves with its code.
func exit(err error) {
	if err == nil {
		os.Exit(0)
	}
	code, hint := 1, ""
	var startErr *bridge.StartError
	if errors.As(err, &startErr) {
		code, hint = startErr.Code, startErr.Hint
	}
	fmt.Fprintf(os.Stderr, "contactcenter: %v\n", err)
	if hint != "" {
		fmt.Fprintf(os.Stderr, "hint: %s\n", hint)
	}
	os.Exit(code)
}

func writeExampleConfig(path string) error {
	if _, err := os.Stat(path); err == nil {
		return &bridge.StartError{Code: bridge.ExitConfig, Err: fmt.Errorf("%s already exists", path), Hint: "remove it or choose another path with -c"}
	}
	return os.WriteFile(path, contactcenter.ExampleConfig, 0o600)
}

func generateRegistration(configPath, registrationPath string) error {
	cfg, _, err := config.FillGenerated(configPath)
	if err != nil {
		return &bridge.StartError{Code: bridge.ExitConfig, Err: err, Hint: "write an example config with -e first"}
	}
	if err = cfg.Validate(true); err != nil {
		return &bridge.StartError{Code: bridge.ExitConfig, Err: err, Hint: "fix the config and run -g again"}
	}
	if err = cfg.SaveRegistration(registrationPath); err != nil {
		return &bridge.StartError{Code: bridge.ExitRegistrationWrite, Err: err}
	}
	fmt.Fprintf(os.Stderr, "Wrote %s. Install it in the homeserver (app_service_api.config_files on Dendrite, app_service_config_files on Synapse) and restart the homeserver.\n", registrationPath)
	return nil
}

// printNewAPIKey prints a fresh key for the tenant's system and the hash the config
// keeps: the key is shown this once and stored nowhere.
func printNewAPIKey(w io.Writer) {
	key := contextapi.NewKey()
	fmt.Fprintf(w, "API key (give it to the tenant's system; it is shown only now):\n  %s\n", key)
	fmt.Fprintf(w, "Add this line to the tenant's api_keys in the config:\n  - %q\n", contextapi.KeyHashConfig(key))
}

// crossSigningBackup runs an export or import of the cross-signing identities.
func crossSigningBackup(configPath, file string, op func(context.Context, *config.Config, zerolog.Logger, string) (int, error), done string) error {
	cfg, log, err := loadConfig(configPath, "the backup needs the service's config (database and pickle key)")
	if err != nil {
		return err
	}
	n, err := op(context.Background(), cfg, log, file)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, done, n, file)
	return nil
}

// loadConfig reads and validates the config and makes its logger; hint says what a
// broken config stops.
func loadConfig(path, hint string) (*config.Config, zerolog.Logger, error) {
	cfg, err := config.Load(path)
	if err == nil {
		err = cfg.Validate(true)
	}
	if err != nil {
		return nil, zerolog.Logger{}, &bridge.StartError{Code: bridge.ExitConfig, Err: err, Hint: hint}
	}
	log, err := newLogger(cfg.Logging)
	if err != nil {
		return nil, zerolog.Logger{}, &bridge.StartError{Code: bridge.ExitConfig, Err: err}
	}
	return cfg, log, nil
}

func run(configPath string) error {
	cfg, log, err := loadConfig(configPath, "see config.example.yaml; -g fills in secrets")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := bridge.New(cfg, log)
	if err = b.Start(log.WithContext(ctx)); err != nil {
		return err
	}
	<-ctx.Done()
	log.Info().Msg("Shutting down")
	b.Stop()
	return nil
}

func newLogger(cfg config.LoggingConfig) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("logging.level: %w", err)
	}
	var log zerolog.Logger
	if cfg.Format == "json" {
		log = zerolog.New(os.Stderr)
	} else {
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"})
	}
	return log.Level(level).With().Timestamp().Logger(), nil
}
