package bridge

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
)

// consentSweep is how often unanswered prompts are looked for.
const consentSweep = time.Second

// expirePrompts settles prompts nobody answered in time: what they asked and the
// customer did not decide counts as refused, and the customer is told. The
// conversation never waited for them. Deadlines are in the database, so a restart
// loses none.
func (b *Bridge) expirePrompts(ctx context.Context) {
	ticker := time.NewTicker(consentSweep)
	defer ticker.Stop()
	for {
		due, err := b.DB.Prompts.Due(ctx, b.now())
		if err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not look for unanswered consent prompts")
		}
		for _, prompt := range due {
			if err = b.expirePrompt(ctx, prompt); err != nil && ctx.Err() == nil {
				zerolog.Ctx(ctx).Warn().Err(err).Int64("conversation", prompt.Conversation).Msg("Could not expire a consent prompt")
			}
		}
		if len(due) > 0 {
			b.outbox.Wake()
		}
		b.expireWrapUps(ctx) // wrapup.go
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (b *Bridge) expirePrompt(ctx context.Context, prompt *database.ConsentPrompt) error {
	return b.doTxn(ctx, func(ctx context.Context) error {
		conv, err := b.DB.Conversation.Get(ctx, prompt.Conversation)
		if err != nil || conv == nil {
			return err
		}
		c := b.convoOf(conv, nil)
		if c == nil || conv.Customer == "" || conv.Status == database.StatusClosed {
			// The conversation is over (or its tenant gone): nothing to say any more.
			_, err = b.DB.Prompts.Settle(ctx, prompt.ID, "closed", b.now())
			return err
		}
		t := c.t
		var opts bot.PromptOptions
		if err = json.Unmarshal([]byte(prompt.Options), &opts); err != nil {
			return err
		}
		state, err := b.Consent.State(ctx, c.subject(), conv.ID)
		if err != nil {
			return err
		}
		var changes []consent.Change
		for _, category := range opts.Categories() {
			if _, decided := state[category]; !decided {
				changes = append(changes, consent.Change{Category: category})
			}
		}
		// The poll's end names what is shared; refusing the undecided changes nothing there.
		if settled, err := c.endPrompt(ctx, prompt, string(consent.MethodTimeout)); err != nil || !settled || len(changes) == 0 {
			return err
		}
		records, err := b.Consent.Decide(ctx, c.subject(), conv.ID, consent.MethodTimeout, t.purposeMap(), changes, false)
		if err != nil {
			return err
		}
		err = c.enqueue(ctx, outboxKey(prompt.Origin, "unanswered"), conv.RoomID, t.UserID, event.EventMessage,
			bot.Notice(bot.ConsentUnansweredText(t.Name)))
		if err != nil {
			return err
		}
		return c.afterDecisions(ctx, records)
	})
}
