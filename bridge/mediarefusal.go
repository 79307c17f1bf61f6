package bridge

import (
	"context"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
)

// mediaRefusal says why a customer's file was not copied for staff.
type mediaRefusal int

const (
	mediaCopied mediaRefusal = iota
	mediaTooLarge
	mediaUnavailable
)

func (r mediaRefusal) String() string {
	switch r {
	case mediaTooLarge:
		return "too large"
	case mediaUnavailable:
		return "unavailable"
	}
	return "copied"
}

func (r mediaRefusal) forStaff() string {
	if r == mediaTooLarge {
		return bot.MediaTooLargeForStaff
	}
	return bot.MediaUnavailableForStaff
}

func (r mediaRefusal) forCustomer() string {
	if r == mediaTooLarge {
		return bot.MediaTooLarge(maxMediaSize >> 20)
	}
	return bot.MediaUnavailable
}

// tellMediaRefusal tells the customer that a file they sent did not reach the agents,
// and why. It runs in the event's commit.
func (b *Bridge) tellMediaRefusal(ctx context.Context, t *Tenant, conv *database.Conversation, evt *event.Event, r mediaRefusal) error {
	if r == mediaCopied {
		return nil
	}
	return b.tellCustomer(ctx, t, conv, evt, "media", r.forCustomer())
}
