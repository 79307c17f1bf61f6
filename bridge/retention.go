package bridge

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
)

// retentionInterval is how often what is past its retention is deleted.
const retentionInterval = time.Hour

// retentionLoop deletes what is past its retention, hourly (the transport prunes its
// own finished queue rows).
func (b *Bridge) retentionLoop(ctx context.Context) {
	ticker := time.NewTicker(retentionInterval)
	defer ticker.Stop()
	for {
		b.pruneRetained(ctx, b.Config.Retention)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// DefaultEventMapRetention keeps a closed conversation's event map, which says which
// agent wrote each message the customer got, for a quarter.
const DefaultEventMapRetention = 90 * 24 * time.Hour

// pruneRetained deletes what is past its retention: the event map of conversations
// closed long enough ago, call recordings (voice.recordings.retention: file and row),
// and in the consent ledger old page views, finished codes and old access-log entries. Failures are logged and retried at the next run.
func (b *Bridge) pruneRetained(ctx context.Context, periods config.RetentionConfig) {
	log := zerolog.Ctx(ctx)
	eventMap := periods.EventMap
	if eventMap <= 0 {
		eventMap = DefaultEventMapRetention
	}
	closed, err := b.DB.PruneClosed(ctx, b.now().Add(-eventMap))
	if err != nil && ctx.Err() == nil {
		log.Warn().Err(err).Msg("Could not prune the event map of closed conversations")
	}
	ledger, err := b.Consent.Prune(ctx, consent.Retention{PageViews: periods.PageViews, AccessLog: periods.AccessLog})
	if err != nil && ctx.Err() == nil {
		log.Warn().Err(err).Msg("Could not prune the consent ledger")
	}
	recordings, err := pruneRecordings(ctx, b.DB.Recordings(), b.Config.Voice.Recordings.Dir, b.now().Add(-b.Config.Voice.Recordings.Keep()))
	if err != nil && ctx.Err() == nil {
		log.Warn().Err(err).Msg("Could not delete the recordings past their retention")
	}
	if closed+recordings+ledger.PageViews+ledger.Codes+ledger.VisitorLinks+ledger.AccessLog > 0 {
		log.Debug().Int64("event_map", closed).Int64("recordings", recordings).Int64("page_views", ledger.PageViews).Int64("codes", ledger.Codes).
			Int64("visitor_links", ledger.VisitorLinks).Int64("access_log", ledger.AccessLog).Msg("Pruned what is past its retention")
	}
}
