package database

import (
	"context"

	"go.mau.fi/util/dbutil"
)

// urgentConns is how many PostgreSQL connections are kept for urgent writes.
const urgentConns = 2

// openUrgent opens the PostgreSQL connections kept for urgent writes, apart from the
// pool: a homeserver sends its next transaction only once we have answered the last,
// so storing one must not wait for a pool connection behind the handlers' statements.
// This is PostgreSQL's counterpart of the write gate's priority on SQLite.
func openUrgent(uri string, log dbutil.DatabaseLogger) (*dbutil.Database, error) {
	pool, err := openPool("postgres", uri)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(urgentConns)
	pool.SetMaxIdleConns(urgentConns)
	db, err := dbutil.NewWithDB(pool, "postgres")
	if err != nil {
		_ = pool.Close()
		return nil, err
	}
	db.Log = log
	return db, nil
}

// urgentExecable is where an urgent write runs: in the caller's transaction if there
// is one, else on the connections kept for urgent writes (PostgreSQL), else as any
// other write (SQLite, where urgentWrite gives it its priority).
func urgentExecable(ctx context.Context, db, urgent *dbutil.Database) dbutil.Execable {
	exec := db.Execable(ctx)
	if _, inTxn := exec.(dbutil.Transaction); !inTxn && urgent != nil {
		return urgent.Execable(ctx)
	}
	return exec
}
