package database_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// Statements kept prepared per connection give the same answers as fresh ones: with
// arguments that change, rows read while the same statement is asked again (nested),
// a failing statement that must not poison the next call, and transactions.
func TestStatementCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE cache_test (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		const insert = `INSERT INTO cache_test (k, v) VALUES ($1, $2)`
		for i := range 5 {
			if _, err := db.Exec(ctx, insert, i, "v"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(ctx, insert, 1, "again"); err == nil {
			t.Fatal("a duplicate key was accepted")
		}
		if _, err := db.Exec(ctx, insert, 5, "after the failure"); err != nil {
			t.Fatalf("the statement after a failed one: %v", err)
		}
		const query = `SELECT k FROM cache_test WHERE k >= $1 ORDER BY k`
		err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
			outer, err := db.Query(ctx, query, 4)
			if err != nil {
				return err
			}
			defer outer.Close()
			var got []int
			for outer.Next() {
				var k int
				if err := outer.Scan(&k); err != nil {
					return err
				}
				got = append(got, k)
				if db.Dialect != dbutil.SQLite {
					continue // lib/pq reads one result at a time per connection
				}
				// The same statement while its rows are open.
				var n int
				if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM cache_test WHERE k >= $1`, k).Scan(&n); err != nil {
					return err
				}
				inner, err := db.Query(ctx, query, k)
				if err != nil {
					return err
				}
				m := 0
				for inner.Next() {
					m++
				}
				inner.Close()
				if m != n {
					t.Errorf("nested query from %d: %d rows, want %d", k, m, n)
				}
			}
			if len(got) != 2 || got[0] != 4 || got[1] != 5 {
				t.Errorf("outer rows %v, want [4 5]", got)
			}
			_, err = db.Exec(ctx, insert, 6, "in a transaction")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err = db.QueryRow(ctx, `SELECT COUNT(*) FROM cache_test WHERE k >= $1`, 0).Scan(&n); err != nil || n != 7 {
			t.Fatalf("%d rows (%v), want 7", n, err)
		}
		// A rolled back transaction leaves nothing and the connection usable.
		rollback := errors.New("roll back")
		err = db.DoTxn(ctx, nil, func(ctx context.Context) error {
			if _, err := db.Exec(ctx, insert, 7, "rolled back"); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if err = db.QueryRow(ctx, `SELECT COUNT(*) FROM cache_test WHERE k >= $1`, 0).Scan(&n); err != nil || n != 7 {
			t.Fatalf("%d rows after the rollback (%v), want 7", n, err)
		}
	})
}

// On SQLite, writers queue in the process: many transactions at once all commit,
// none fails with "database is locked".
func TestConcurrentWritersQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE writers_test (k INTEGER PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					errs <- db.DoTxn(ctx, nil, func(ctx context.Context) error {
						_, err := db.Exec(ctx, `INSERT INTO writers_test (k) VALUES ($1)`, w*each+i)
						time.Sleep(time.Millisecond) // hold the write lock a while
						return err
					})
					if i%5 == 0 { // autocommit writes between transactions
						_, err := db.Exec(ctx, `UPDATE writers_test SET k = k WHERE k = $1`, w*each+i)
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM writers_test`).Scan(&n); err != nil || n != writers*each {
			t.Fatalf("%d rows (%v), want %d", n, err, writers*each)
		}
	})
}
