package bridge

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/routing"
)

// queueNotice is what a customer was last told about their place in the queue.
type queueNotice struct {
	position int
	at       time.Time
	maxWait  bool
}

// queueNoticeEvery rate-limits position updates to one customer.
const queueNoticeEvery = 30 * time.Second

// tellQueue tells waiting customers their place in the queue and an estimated wait
// when it changed (at most every queueNoticeEvery), and, once, when they have waited
// the workflow's max_wait. It runs only in the routing loop, on committed data, so
// positions come from one consistent view. What was said is kept in memory: after a
// restart a customer may hear their position once more.
func (b *Bridge) tellQueue(ctx context.Context, t *Tenant, now time.Time) error {
	// A plain read: the claims' locked read would hide what another replica holds.
	waiting, err := b.DB.Conversation.Waiting(ctx, t.ID)
	if err != nil {
		return err
	}
	wf := t.router.Workflow()
	t.queueMu.Lock()
	defer t.queueMu.Unlock()
	seen := map[int64]bool{}
	for i, conv := range waiting {
		seen[conv.ID] = true
		told := t.queueTold[conv.ID]
		position := i + 1
		if told.position != position && now.Sub(told.at) >= queueNoticeEvery {
			text := fmt.Sprintf("You are number **%d** in the queue.", position)
			if wait, ok := routing.EstimateWait(position, t.router.ReadyAgents(), meanHandleTime); ok {
				text += fmt.Sprintf(" Estimated wait: about %d min.", int(wait.Minutes()))
			} else {
				text += " No agent is free right now; you keep your place."
			}
			key := outboxKey("queue", conv.ID, now.UnixNano())
			if err = b.DB.Outbox.Enqueue(ctx, key, conv.RoomID, t.UserID, event.EventMessage, bot.Notice(text), now); err != nil {
				return err
			}
			told.position, told.at = position, now
		}
		if wf.MaxWait > 0 && !told.maxWait && now.Sub(conv.OpenedAt) >= wf.MaxWait {
			key := outboxKey("max-wait", conv.ID)
			if t.MaxWaitMessage != "" {
				if err = b.DB.Outbox.Enqueue(ctx, key, conv.RoomID, t.UserID, event.EventMessage, bot.Notice(t.MaxWaitMessage), now); err != nil {
					return err
				}
			}
			if err = b.offerCallback(ctx, t, conv.RoomID, conv.ID); err != nil {
				return err
			}
			told.maxWait = true
		}
		t.queueTold[conv.ID] = told
	}
	for id, told := range t.queueTold {
		if !seen[id] && now.Sub(told.at) > time.Hour {
			delete(t.queueTold, id) // served or gone long ago
		}
	}
	return nil
}
