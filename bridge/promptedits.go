package bridge

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
)

// Answered prompts are edited (m.replace) to show what was chosen: a consent prompt's
// text once it is settled (answered or timed out), an offer once it is accepted,
// declined, gone or lapsed. The edits name their target by its event-map name; the
// outbox puts in the event ID when it sends them, and skips an edit of something
// never sent.

// markPromptAnswered edits a settled consent prompt's text to say what is shared.
func (c *convo) markPromptAnswered(ctx context.Context, prompt *database.ConsentPrompt, shared []consent.Category, by string) error {
	target := id.EventID(prompt.Origin + textPromptSuffix)
	return c.b.DB.Outbox.EnqueueRelay(ctx, outboxKey(prompt.Origin, "answered"), c.RoomID, c.t.UserID, event.EventMessage,
		bot.Replacement(target, bot.ConsentAnswered(shared, by)), c.RoomID, c.b.now())
}

// markOfferAnswered edits the agent's latest offer of the conversation to say how it
// ended, and closes its poll.
func (c *convo) markOfferAnswered(ctx context.Context, agent id.UserID, how string) error {
	record, err := c.b.DB.Staff.Get(ctx, c.t.ID, agent)
	if err != nil || record == nil || record.ControlRoomID == "" {
		return err
	}
	room := record.ControlRoomID
	names, err := c.b.DB.EventMap.Named(ctx, room, fmt.Sprintf("%s%d:%s:", offerOrigin, c.ID, agent))
	if err != nil {
		return err
	}
	origin := ""
	for _, name := range names {
		if !strings.Contains(name, "|") {
			origin = name // names sort by the time they carry: the last is the latest
		}
	}
	if origin == "" {
		return nil
	}
	now := c.b.now()
	return firstErr(
		c.b.DB.Outbox.EnqueueRelay(ctx, outboxKey(origin, "answered"), room, c.t.UserID, event.EventMessage,
			bot.Replacement(id.EventID(origin), bot.OfferAnswered(c.ID, c.customerName(), how)), room, now),
		c.b.DB.Outbox.EnqueueRelay(ctx, outboxKey(origin, "poll-end"), room, c.t.UserID, event.EventUnstablePollEnd,
			bot.PollClosed(id.EventID(origin+"|poll"), offerPollEnd[how]), room, now),
	)
}

var offerPollEnd = map[string]string{
	bot.OfferEndAccepted: "Accepted", bot.OfferEndDeclined: "Declined",
	bot.OfferEndGone: "No longer offered", bot.OfferEndLapsed: "Lapsed",
}
