package bridge

import (
	"context"

	"github.com/contactcenter/contactcenter/bot"
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
func (c *convo) tellMediaRefusal(ctx context.Context, r mediaRefusal) error {
	if r == mediaCopied {
		return nil
	}
	return c.tellCustomer(ctx, "media", r.forCustomer())
}
