package jsclient

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

// ErrNoNode is returned (wrapped) by Ensure and Start when node or npm is not
// installed; tests may skip on it.
var ErrNoNode = errors.New("jsclient: node/npm not found in PATH")

// RepoRoot walks up from the working directory to the directory holding
// go.mod, so tests in any package find testclient/js.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("jsclient: no go.mod above the working directory")
		}
		dir = parent
	}
}

// DriverDir is testclient/js in the repository.
func DriverDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testclient", "js"), nil
}

// Ensure runs `npm ci --no-audit --no-fund` in testclient/js if node_modules
// is missing or older than package-lock.json. It holds an flock while doing
// so, so several test processes may call it at once.
func Ensure(ctx context.Context) error {
	dir, err := DriverDir()
	if err != nil {
		return err
	}
	return EnsureDir(ctx, dir)
}

// EnsureDir is Ensure for the npm project in dir.
func EnsureDir(ctx context.Context, dir string) error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %v", ErrNoNode, err)
		}
	}
	if upToDate(dir) {
		return nil
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "jsclient-npm-ci.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := flock(ctx, lock); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if upToDate(dir) { // another process did it while we waited
		return nil
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("jsclient: npm ci in %s: %w\n%s", dir, err, out)
	}
	return nil
}

// upToDate reports whether npm's record of the installed tree
// (node_modules/.package-lock.json, written last by npm ci) is newer than
// package-lock.json.
func upToDate(dir string) bool {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return false
	}
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return false
	}
	return !installed.ModTime().Before(lock.ModTime())
}

// flock takes an exclusive lock on f, giving up when ctx is done.
func flock(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("jsclient: flock: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
