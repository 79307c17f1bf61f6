package testbed

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestLockFileExcludes checks the install lock really excludes: flock locks belong to
// the open file, so a second open in the same process contends like another process.
func TestLockFileExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: %v, want a deadline error", err)
	}
	unlock()
	unlock2, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

func TestToolDirOverride(t *testing.T) {
	t.Setenv("CC_TOOLS_DIR", "/some/where")
	if d, err := ToolDir(); err != nil || d != "/some/where" {
		t.Fatalf("ToolDir() = %q, %v", d, err)
	}
	t.Setenv("CC_TOOLS_DIR", "")
	d, err := ToolDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(filepath.Dir(d)) != ".tools" || filepath.Base(d) != "bin" {
		t.Fatalf("ToolDir() = %q, want <root>/.tools/bin", d)
	}
}
