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
		room, err := b.DB.CustomerRoom.Get(ctx, conv.RoomID)
		t := b.TenantByID(conv.TenantID)
		if err != nil || room == nil || t == nil || conv.Status == database.StatusClosed {
			// The conversation is over (or its tenant gone): nothing to say any more.
			_, settleErr := b.DB.Prompts.Settle(ctx, prompt.ID, "closed", b.now())
			return firstErr(err, settleErr)
		}
		var opts bot.PromptOptions
		if err = json.Unmarshal([]byte(prompt.Options), &opts); err != nil {
			return err
		}
		state, err := b.Consent.State(ctx, subjectOf(t, room.Customer), conv.ID)
		if err != nil {
			return err
		}
		var changes []consent.Change
		for _, c := range opts.Categories() {
			if _, decided := state[c]; !decided {
				changes = append(changes, consent.Change{Category: c})
			}
		}
		// The poll's end names what is shared; refusing the undecided changes nothing there.
		if settled, err := b.endPrompt(ctx, t, conv, room.Customer, prompt, string(consent.MethodTimeout)); err != nil || !settled || len(changes) == 0 {
			return err
		}
		records, err := b.Consent.Decide(ctx, subjectOf(t, room.Customer), conv.ID, consent.MethodTimeout, t.purposeMap(), changes, false)
		if err != nil {
			return err
		}
		err = b.DB.Outbox.Enqueue(ctx, outboxKey(prompt.Origin, "unanswered"), conv.RoomID, t.UserID, event.EventMessage,
			bot.Notice(bot.ConsentUnansweredText(t.Name)), b.now())
		if err != nil {
			return err
		}
		return b.afterDecisions(ctx, t, conv, room.Customer, records)
	})
}
