package database

import (
	"context"
	"time"
)

const (
	closedBeforeQuery          = `SELECT id FROM conversation WHERE status = 'closed' AND closed_at < $1`
	pruneConsentReactionsQuery = `DELETE FROM consent_reaction WHERE conversation_id IN (` + closedBeforeQuery + `)`
	pruneSharedLocationsQuery  = `DELETE FROM shared_location WHERE conversation_id IN (` + closedBeforeQuery + `)`
)

// PruneClosed deletes what the service keeps about the events of conversations
// closed before a time, all or nothing: their event-map rows, the reactions that
// answered their consent prompts and the locations shared in them. Their staff rooms
// are read-only and a withdrawal concerns an open conversation, so none of it is
// needed any more. It returns how many rows went.
func (db *Database) PruneClosed(ctx context.Context, closedBefore time.Time) (int64, error) {
	var total int64
	err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
		n, err := db.EventMap.PruneClosed(ctx, closedBefore)
		if err != nil {
			return err
		}
		total = n
		for _, query := range []string{pruneConsentReactionsQuery, pruneSharedLocationsQuery} {
			res, err := db.Exec(ctx, query, closedBefore.UnixMilli())
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}
