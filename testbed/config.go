package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// serverFiles lays out one server's directory. Everything Dendrite writes lives under it,
// so a stopped server restarts from the same state and Close removes it all.
type serverFiles struct{ dir string }

func (f serverFiles) config() string     { return filepath.Join(f.dir, "dendrite.yaml") }
func (f serverFiles) signingKey() string { return filepath.Join(f.dir, "matrix_key.pem") }
func (f serverFiles) tlsCert() string    { return filepath.Join(f.dir, "server.crt") }
func (f serverFiles) tlsKey() string     { return filepath.Join(f.dir, "server.key") }
func (f serverFiles) logDir() string     { return filepath.Join(f.dir, "log") }

// logFile is where Dendrite's file hook writes (internal/log.go joins "dendrite.log").
func (f serverFiles) logFile() string { return filepath.Join(f.logDir(), "dendrite.log") }

// consoleFile catches the child's stdout/stderr: Dendrite copies its log there too, and
// failures before the config is loaded (bad flags, unreadable YAML) only appear there.
func (f serverFiles) consoleFile() string { return filepath.Join(f.logDir(), "console.log") }

// writeServerConfig generates keys and a config for serverName into f.dir and patches it
// for a closed two-server loopback federation.
func writeServerConfig(ctx context.Context, binDir string, f serverFiles, serverName, secret string, appservices []string) error {
	if err := os.MkdirAll(f.logDir(), 0o755); err != nil {
		return err
	}
	// 2048-bit TLS keys: the 4096 default costs about a second per server for nothing.
	if _, err := runTool(ctx, binDir, "generate-keys",
		"--private-key", f.signingKey(), "--tls-cert", f.tlsCert(), "--tls-key", f.tlsKey(),
		"--server", "localhost", "--keysize", "2048"); err != nil {
		return err
	}
	// An absolute -dir makes every generated database and media path absolute, so the
	// server does not depend on its working directory.
	out, err := runTool(ctx, binDir, "generate-config", "-dir", f.dir, "-server", serverName)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		return fmt.Errorf("testbed: parse generated config: %w", err)
	}
	if err := patchConfig(cfg, f, serverName, secret, appservices); err != nil {
		return err
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(f.config(), data, 0o600)
}

// patchConfig applies the changes measured in /work/shared/notes/dendrite-testbed.md.
// It edits the generic map so keys this code does not know about keep their defaults.
func patchConfig(cfg map[string]any, f serverFiles, serverName, secret string, appservices []string) error {
	abs := make([]any, 0, len(appservices))
	for _, p := range appservices {
		a, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		abs = append(abs, a)
	}
	sets := []struct {
		path  []string
		value any
	}{
		{[]string{"global", "server_name"}, serverName},
		{[]string{"global", "private_key"}, f.signingKey()},
		// Presence is off by default, and then nothing crosses federation.
		{[]string{"global", "presence", "enable_inbound"}, true},
		{[]string{"global", "presence", "enable_outbound"}, true},
		{[]string{"global", "jetstream", "storage_path"}, filepath.Join(f.dir, "jetstream")},
		{[]string{"global", "trusted_third_party_id_servers"}, []any{}},
		// Server notices would create an extra "_server" user and rooms on each server.
		{[]string{"global", "server_notices", "enabled"}, false},
		{[]string{"client_api", "registration_disabled"}, false},
		{[]string{"client_api", "registration_shared_secret"}, secret},
		// Tests log in, register and send in bursts; the default limiter answers 429.
		{[]string{"client_api", "rate_limiting", "enabled"}, false},
		// Both servers use self-signed certificates.
		{[]string{"federation_api", "disable_tls_validation"}, true},
		// No internet: fetch keys from the other server directly, never via matrix.org.
		{[]string{"federation_api", "key_perspectives"}, []any{}},
		{[]string{"app_service_api", "config_files"}, abs},
		// Fast password hashing: registration and login happen in every test.
		{[]string{"user_api", "bcrypt_cost"}, 4},
		{[]string{"media_api", "base_path"}, filepath.Join(f.dir, "media")},
		{[]string{"sync_api", "search", "index_path"}, filepath.Join(f.dir, "searchindex")},
		// Logs go to D/log only; info level is what you want when a test fails.
		{[]string{"logging"}, []any{map[string]any{
			"type": "file", "level": "info", "params": map[string]any{"path": f.logDir()},
		}}},
	}
	for _, s := range sets {
		if err := setPath(cfg, s.path, s.value); err != nil {
			return err
		}
	}
	return nil
}

// setPath sets cfg[path[0]][path[1]]... = value. The parent maps must already exist:
// a missing one means the generated config changed shape, which is worth an error.
func setPath(cfg map[string]any, path []string, value any) error {
	m := cfg
	for i, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return fmt.Errorf("testbed: generated config has no section %v", path[:i+1])
		}
		m = next
	}
	m[path[len(path)-1]] = value
	return nil
}

// runTool runs one of the installed Dendrite tools and returns its stdout.
func runTool(ctx context.Context, binDir, tool string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, tool), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("testbed: %s: %w: %s", tool, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}
