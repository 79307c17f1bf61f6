package secretfile

import (
	"os"
	"path/filepath"
	"testing"
)

// An existing world-readable file is replaced by one only its owner can read, and
// no temporary file is left behind.
func TestWriteReplacesWithOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registration.yaml")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("as_token: secret")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", info.Mode().Perm())
	}
	if data, _ := os.ReadFile(path); string(data) != "as_token: secret" {
		t.Fatalf("content %q", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	if err := os.WriteFile(path+"-wal", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Restrict(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path + "-wal"); info.Mode().Perm() != 0o600 {
		t.Fatalf("restricted mode %v", info.Mode().Perm())
	}
	if err := Restrict(filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("missing file: %v", err)
	}
}
