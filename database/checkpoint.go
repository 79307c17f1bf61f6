package database

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
)

const (
	// autoCheckpointPages is the WAL size at which a SQLite commit copies the WAL back
	// into the database itself (SQLite's default is 1,000 pages). Checkpoints normally
	// run beside the writer (CheckpointLoop); the writer only does it when they fall
	// this far behind, so that the WAL stays bounded in any case.
	autoCheckpointPages = 10000
	// checkpointInterval is how often CheckpointLoop copies the WAL back.
	checkpointInterval = 500 * time.Millisecond
)

// CheckpointLoop copies a SQLite database's WAL back into the database file until
// ctx ends, on a connection of its own, so that committing transactions does not also
// pay for it: with SQLite's automatic checkpoints, one commit in every thousand pages
// written did that copy (and its fsync) while every other writer waited. Passive
// checkpoints wait for no reader or writer. Nothing to do on PostgreSQL.
func (db *Database) CheckpointLoop(ctx context.Context) {
	if db.Dialect != dbutil.SQLite {
		return
	}
	ticker := time.NewTicker(checkpointInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		// A query, not an Exec: it must not queue behind the writers (writegate.go).
		var busy, logPages, copied int
		err := db.QueryRow(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied)
		if err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not checkpoint the SQLite WAL")
		}
	}
}
