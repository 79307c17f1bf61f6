package bridge

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
)

// The commands of the customer room (see customerCommands), run in the event's
// commit.

// privacyPrompt answers !privacy: the same prompt, for every category this customer
// can be asked about, so any of them can be given or withdrawn. When there is none
// (an anonymous customer at a tenant that asks only for identity), the status alone.
func (c *convo) privacyPrompt(ctx context.Context) error {
	b, t, s := c.b, c.t, c.subject()
	identified, err := b.Consent.Identified(ctx, s)
	if err != nil {
		return err
	}
	state, err := b.Consent.State(ctx, s, c.ID)
	if err != nil {
		return err
	}
	askable := append(t.askable(identified), t.recordingPurposes()...)
	if len(askable) == 0 {
		return c.tellCustomer(ctx, "privacy", bot.PrivacyStatusOnly(t.Name, statusLines(t.Purposes(), state)))
	}
	err = c.enqueue(ctx, outboxKey("privacy", c.ID, b.now().UnixNano()), c.RoomID, t.UserID, event.EventMessage,
		bot.Notice("What "+t.Name+" may see now:\n\n"+strings.Join(statusLines(askable, state), "\n")+"\n\nAnswer below to change it."))
	if err != nil {
		return err
	}
	return c.askConsent(ctx, askable)
}

// statusLines list, as Markdown, whether each category is shared.
func statusLines(purposes []consent.Purpose, state map[consent.Category]consent.Decision) []string {
	var lines []string
	for _, p := range purposes {
		now := "not shared"
		if state[p.Category] == consent.Given {
			now = "shared"
		}
		lines = append(lines, fmt.Sprintf("- %s: %s", p.Category, now))
	}
	return lines
}

// identify answers !identify: a customer the tenant already knows is asked to share
// identity and account; anyone else learns how to prove who they are (a link code
// from the tenant's website, typed here).
func (c *convo) identify(ctx context.Context) error {
	t := c.t
	identified, err := c.b.Consent.Identified(ctx, c.subject())
	if err != nil {
		return err
	}
	if !identified {
		return c.tellCustomer(ctx, "identify", fmt.Sprintf(
			"To tell %s who you are, log in on its website, get a **link code** there and type it here. Until then you stay anonymous to our agents.", t.Name))
	}
	var ask []consent.Purpose
	for _, p := range t.Purposes() {
		if p.Category == consent.Identity || p.Category == consent.Account {
			ask = append(ask, p)
		}
	}
	if len(ask) == 0 {
		return c.tellCustomer(ctx, "identify", t.Name+" does not ask who you are: you can stay anonymous.")
	}
	return c.askConsent(ctx, ask)
}
