package pgcluster

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	c, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v: dir %s socket %s port %d", time.Since(begin), c.Dir, c.SocketDir, c.Port)
	for i, name := range []string{"alpha", "beta-2"} {
		uri, err := c.CreateDatabase(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("uri %s", uri)
		db, err := sql.Open("postgres", uri)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, name); err != nil {
			t.Fatal(err)
		}
		var got, cur string
		if err := db.QueryRowContext(ctx, `SELECT name, current_database() FROM items WHERE id = 1`).Scan(&got, &cur); err != nil {
			t.Fatal(err)
		}
		if got != name || cur != name {
			t.Errorf("database %d: got %q in %q, want %q", i, got, cur, name)
		}
		var fsync string
		if err := db.QueryRowContext(ctx, `SHOW fsync`).Scan(&fsync); err != nil || fsync != "off" {
			t.Errorf("fsync = %q, %v", fsync, err)
		}
		db.Close()
	}
	begin = time.Now()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %v", time.Since(begin))
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("dir %s still there: %v", c.Dir, err)
	}
}

var sharedRuns int

func TestShared(t *testing.T) {
	ctx := context.Background()
	c1, _, err := Shared(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := Shared(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Fatal("Shared returned two clusters")
	}
	sharedRuns++ // go test -count=N reuses the shared cluster
	if _, err := c1.CreateDatabase(ctx, fmt.Sprintf("shared_db_%d", sharedRuns)); err != nil {
		t.Fatal(err)
	}
}

// Down makes the server unreachable and Up brings it back with its data, reachable
// again through the same pool.
func TestDownAndUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, "", "autovacuum_naptime=7s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	uri, err := c.CreateDatabase(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", uri)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err = db.ExecContext(ctx, `CREATE TABLE t (v int); INSERT INTO t VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	if err = c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if err = db.PingContext(ctx); err == nil {
		t.Fatal("the server still answers after Down")
	}
	if err = c.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var v int
	if err = db.QueryRowContext(ctx, `SELECT v FROM t`).Scan(&v); err != nil || v != 7 {
		t.Fatalf("after Up: %d, %v", v, err)
	}
	// The settings given to Start hold after a restart too.
	var naptime string
	if err = db.QueryRowContext(ctx, `SHOW autovacuum_naptime`).Scan(&naptime); err != nil || naptime != "7s" {
		t.Errorf("autovacuum_naptime after Up = %q, %v; want 7s", naptime, err)
	}
}
