// Package testbed runs two real, federating Dendrite homeservers on loopback
// ("customer" side and "business" side) for the project's integration tests.
package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// DendriteVersion is the Dendrite release the test bed is built and measured against.
// It is the newest release on the Go module proxy (element-hq/dendrite is not reachable).
const DendriteVersion = "v0.13.8"

// dendriteTools are the commands the test bed needs; create-account is not used by the
// bed itself but is handy when poking at a kept test directory by hand.
var dendriteTools = []string{"dendrite", "generate-keys", "generate-config", "create-account"}

// ToolDir returns <repo root>/.tools/bin, where the repo root is the nearest parent of
// the working directory holding a go.mod. CC_TOOLS_DIR overrides it, so CI can point
// every checkout at one shared install.
func ToolDir() (string, error) {
	if d := os.Getenv("CC_TOOLS_DIR"); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tools", "bin"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testbed: no go.mod above %s; set CC_TOOLS_DIR", wd)
		}
		dir = parent
	}
}

// haveTools reports whether every Dendrite binary is present in dir.
func haveTools(dir string) bool {
	for _, t := range dendriteTools {
		if fi, err := os.Stat(filepath.Join(dir, t)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// EnsureDendrite installs the Dendrite binaries into ToolDir() with `go install` if any
// is missing, and returns that directory. `go test ./...` runs packages as parallel
// processes, so the install is serialised with a flock: the first caller installs, the
// others block on the lock and then find the binaries present.
func EnsureDendrite(ctx context.Context) (string, error) {
	dir, err := ToolDir()
	if err != nil {
		return "", err
	}
	if haveTools(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".install.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if haveTools(dir) { // another process installed while we waited
		return dir, nil
	}

	pkgs := make([]string, 0, len(dendriteTools))
	for _, t := range dendriteTools {
		pkgs = append(pkgs, "github.com/matrix-org/dendrite/cmd/"+t+"@"+DendriteVersion)
	}
	fmt.Fprintf(os.Stderr, "testbed: installing Dendrite %s into %s (about 90 s on a cold module cache)\n", DendriteVersion, dir)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", append([]string{"install"}, pkgs...)...)
	// Run outside the project so its go.mod and any GOFLAGS=-mod=... cannot interfere.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=1", "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testbed: go install dendrite %s: %w", DendriteVersion, err)
	}
	if !haveTools(dir) {
		return "", fmt.Errorf("testbed: go install finished but binaries are missing from %s", dir)
	}
	fmt.Fprintf(os.Stderr, "testbed: Dendrite installed in %s\n", time.Since(start).Round(time.Second))
	return dir, nil
}

// lockFile takes an exclusive flock on path, polling so ctx can cancel the wait.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	announced := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("testbed: lock %s: %w", path, err)
		}
		if !announced {
			fmt.Fprintf(os.Stderr, "testbed: waiting for another process installing Dendrite (%s)\n", path)
			announced = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
