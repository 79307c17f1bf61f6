// Package dbtest opens fresh service databases for tests and benchmarks: SQLite in a
// temp dir, or a new database on the shared throwaway PostgreSQL cluster (a test
// package using it runs pgcluster.Main from its TestMain).
package dbtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

var count atomic.Int64

// Types are the databases every storage test runs on.
var Types = []string{"sqlite", "postgres"}

// Config makes a fresh, empty database of the type ("sqlite" or "postgres") and
// returns how to open it (several handles may, as replicas would). PostgreSQL is
// skipped under -short.
func Config(t testing.TB, dbType string) database.Config {
	t.Helper()
	cfg := database.Config{Type: dbType, URI: filepath.Join(t.TempDir(), "cc.db")}
	if dbType == "postgres" {
		if testing.Short() {
			t.Skip("needs PostgreSQL")
		}
		cluster, _, err := pgcluster.Shared(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.URI, err = cluster.CreateDatabase(context.Background(), fmt.Sprintf("test_%d_%d", os.Getpid(), count.Add(1))); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// OpenConfig opens a database as the service does, with its tables upgraded; it is
// closed after the test.
func OpenConfig(t testing.TB, cfg database.Config) *database.Database {
	t.Helper()
	db, err := database.Open(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err = db.Upgrade(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Open opens a fresh database of the type.
func Open(t testing.TB, dbType string) *database.Database {
	t.Helper()
	return OpenConfig(t, Config(t, dbType))
}

// Each runs a test on a fresh database of each type.
func Each(t *testing.T, fn func(t *testing.T, db *database.Database)) {
	for _, dbType := range Types {
		t.Run(dbType, func(t *testing.T) { fn(t, Open(t, dbType)) })
	}
}
