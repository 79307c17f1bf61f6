package bridge

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/contactcenter/contactcenter/database"
)

// recordingBatch is how many recordings one pass of the retention job deletes at
// most before looking again.
const recordingBatch = 200

// pruneRecordings deletes the finished recordings started before cutoff: the file
// first, then its row, so that a failure leaves a row that is tried again and never
// a file nobody knows of. A file already gone counts as deleted.
func pruneRecordings(ctx context.Context, q *database.RecordingQuery, dir string, cutoff time.Time) (int64, error) {
	var n int64
	for {
		old, err := q.Before(ctx, cutoff, recordingBatch)
		if err != nil || len(old) == 0 {
			return n, err
		}
		for _, r := range old {
			if dir == "" || !filepath.IsLocal(r.Path) {
				return n, errors.New("a recording's file is not under voice.recordings.dir")
			}
			if err := os.Remove(filepath.Join(dir, r.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, err
			}
			if err := q.Delete(ctx, r.ID); err != nil {
				return n, err
			}
			n++
		}
		if len(old) < recordingBatch {
			return n, nil
		}
	}
}
