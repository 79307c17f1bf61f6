package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/reporting"
)

// Wrap-up codes and notes. When a conversation ends and its tenant has wrap-up codes,
// the agent who served it last is asked in their control room how it ended: a poll
// and the same list numbered (answered by a vote, or by text: the number or the
// code's name, a note after it). The code and note are kept with the conversation
// (wrap_up), the code counted in the contact log. Wrap-up ends when the code is given
// or the time runs out (the agent's wrap_up, else the tenant's wrap_up_timeout): the
// router stops holding the agent back, and the log's end of wrap-up is that moment.
// !note adds a note to the agent's last wrap-up afterwards.

// wrapUpOriginPrefix starts a wrap-up question's name in the event map.
const wrapUpOriginPrefix = "cc:wrapup:"

func wrapUpOrigin(conv int64) string { return fmt.Sprintf("%s%d", wrapUpOriginPrefix, conv) }

// wrapUpTextSuffix names the question's text notice after its poll.
const wrapUpTextSuffix = "|text"

// askWrapUp puts the wrap-up question to the agent who served the conversation last,
// in the transaction that ends it. Once per conversation.
func (c *convo) askWrapUp(ctx context.Context) error {
	b, t := c.b, c.t
	codes := t.AgentTools.WrapUpCodes
	if len(codes) == 0 || c.Agent == "" {
		return nil
	}
	record, err := b.DB.Staff.Get(ctx, t.ID, c.Agent)
	if err != nil || record == nil || record.ControlRoomID == "" {
		return err
	}
	within := t.AgentTools.WrapUpWithin(c.ownWrapUp(c.Agent))
	encoded, err := json.Marshal(codes)
	if err != nil {
		return err
	}
	now, origin := b.now(), wrapUpOrigin(c.ID)
	added, err := b.DB.WrapUps().Add(ctx, &database.WrapUp{Conversation: c.ID, TenantID: t.ID, Agent: c.Agent,
		Room: record.ControlRoomID, Origin: origin, Codes: string(encoded), AskedAt: now, Deadline: now.Add(within)})
	if err != nil || !added {
		return err
	}
	room := record.ControlRoomID
	return firstErr(
		b.queueOwn(ctx, room, t.UserID, origin+wrapUpTextSuffix, event.EventMessage,
			bot.Notice(bot.WrapUpPrompt(c.ID, c.customerName(), codes, within))),
		b.queueOwn(ctx, room, t.UserID, origin, event.EventUnstablePollStart, bot.WrapUpPoll(c.ID, codes)),
	)
}

// ownWrapUp is an agent's own wrap-up time (0: none, or no longer on the staff).
func (c *convo) ownWrapUp(agent id.UserID) time.Duration {
	if s := c.t.staffEntry(agent); s != nil {
		return s.WrapUp.Std()
	}
	return 0
}

// wrapUpAnswer takes an agent's answer to a wrap-up question in their control room:
// a vote on its poll, or a text that starts with a code (a command's name is a
// command). handled is false for anything else.
func (b *Bridge) wrapUpAnswer(ctx context.Context, j *job, t *Tenant, staff *database.StaffMember) (bool, error) {
	evt := j.evt
	var w *database.WrapUp
	var codes []string
	var index int
	var note, by string
	switch evt.Type {
	case event.EventUnstablePollResponse, eventPollResponse:
		target := referencedPoll(evt.Content.Raw)
		if target == "" {
			return false, nil
		}
		origin, err := b.translate(ctx, evt.RoomID, target, evt.RoomID)
		if err != nil || !strings.HasPrefix(string(origin), wrapUpOriginPrefix) {
			return false, err // offerAnswer retries an event not recorded yet
		}
		if w, err = b.DB.WrapUps().ByOrigin(ctx, string(origin)); err != nil || w == nil || w.Agent != staff.UserID {
			return w != nil, err
		}
		if err = json.Unmarshal([]byte(w.Codes), &codes); err != nil {
			return true, err
		}
		var ok bool
		if _, index, ok = bot.ParseWrapUpVote(evt.Content.Raw, len(codes)); !ok {
			return true, nil // a retracted vote
		}
		by = database.WrapUpByPoll
	case event.EventMessage:
		msg := evt.Content.AsMessage()
		if msg.MsgType != event.MsgText || msg.RelatesTo.GetReplaceID() != "" {
			return false, nil
		}
		if cmd, ok := bot.ParseCommand(msg.Body); !ok || bot.Commands.Find(cmd.Name) != nil {
			return false, nil
		}
		var err error
		if w, err = b.DB.WrapUps().Open(ctx, t.ID, staff.UserID); err != nil || w == nil {
			return false, err
		}
		if err = json.Unmarshal([]byte(w.Codes), &codes); err != nil {
			return true, err
		}
		var ok bool
		if index, note, ok = bot.ParseWrapUpText(msg.Body, codes); !ok {
			return false, nil
		}
		by = database.WrapUpByText
	default:
		return false, nil
	}
	if len([]rune(note)) > bot.MaxWrapUpNote {
		return true, j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, j, t, bot.NoteTooLong) })
	}
	return true, j.Commit(ctx, func(ctx context.Context) error { return b.settleWrapUp(ctx, j, t, w, codes[index], note, by) })
}

// referencedPoll is the event a poll response answers.
func referencedPoll(content map[string]any) id.EventID {
	rel, _ := content["m.relates_to"].(map[string]any)
	target, _ := rel["event_id"].(string)
	return id.EventID(target)
}

// settleWrapUp records the code (and note) and ends the agent's wrap-up now: the
// question is edited to show the answer and its poll closed, the side room learns the
// code, and the agent may get the next waiting conversation. A wrap-up settled
// already (an earlier answer, the time) is left as it was.
func (b *Bridge) settleWrapUp(ctx context.Context, j *job, t *Tenant, w *database.WrapUp, code, note, by string) error {
	now := b.now()
	settled, err := b.DB.WrapUps().Settle(ctx, w.Conversation, code, note, by, now)
	if err != nil {
		return err
	}
	if !settled {
		if w, err = b.DB.WrapUps().Get(ctx, w.Conversation); err != nil || w == nil {
			return err
		}
		if w.Code == "" {
			return b.reply(ctx, j, t, bot.WrapUpLapsed(w.Conversation))
		}
		return b.reply(ctx, j, t, bot.WrapUpRecorded(w.Conversation, w.Code, w.Note != ""))
	}
	conv, err := b.DB.Conversation.Get(ctx, w.Conversation)
	if err != nil || conv == nil {
		return err
	}
	c := t.convo(conv, j)
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Str("settled_by", by).Msg("Wrap-up code given")
	if err = c.logEntry(ctx, reporting.WrapUpCode, w.Agent.String(), code, "code", now); err != nil {
		return err
	}
	if err = c.wrapUpOver(ctx, w, now); err != nil {
		return err
	}
	agent := w.Agent
	b.afterCommit(ctx, func(context.Context) { _ = t.router.EndWrapUp(agent.String(), now) })
	return firstErr(
		b.closeWrapUpQuestion(ctx, t, w, bot.WrapUpAnswered(w.Conversation, code), code),
		b.reply(ctx, j, t, bot.WrapUpRecorded(w.Conversation, code, note != "")),
		c.sideNotice(ctx, "wrapup", bot.WrapUpSide(t.staffName(agent), code)),
		b.offerWaiting(ctx, t),
	)
}

// wrapUpOver logs the end of the agent's wrap-up at `at` (the code, or the deadline),
// for an agent whose own wrap-up time held them back; the router did not hold back
// one without, so neither does the log.
func (c *convo) wrapUpOver(ctx context.Context, w *database.WrapUp, at time.Time) error {
	if c.ownWrapUp(w.Agent) <= 0 || c.Agent != w.Agent {
		return nil
	}
	if at.After(w.Deadline) {
		at = w.Deadline
	}
	return c.logEntry(ctx, reporting.WrapUpEnded, w.Agent.String(), "", "close", at)
}

// closeWrapUpQuestion edits the question's text into its outcome and ends its poll.
func (b *Bridge) closeWrapUpQuestion(ctx context.Context, t *Tenant, w *database.WrapUp, text, pollText string) error {
	now := b.now()
	return firstErr(
		b.DB.Outbox.EnqueueRelay(ctx, outboxKey(w.Origin, "answered"), w.Room, t.UserID, event.EventMessage,
			bot.Replacement(id.EventID(w.Origin+wrapUpTextSuffix), text), w.Room, now),
		b.DB.Outbox.EnqueueRelay(ctx, outboxKey(w.Origin, "end"), w.Room, t.UserID, event.EventUnstablePollEnd,
			bot.PollClosed(id.EventID(w.Origin), pollText), w.Room, now),
	)
}

// expireWrapUps ends the wrap-ups whose time ran out without a code. Deadlines are in
// the database, so a restart loses none.
func (b *Bridge) expireWrapUps(ctx context.Context) {
	due, err := b.DB.WrapUps().Due(ctx, b.now())
	if err != nil && ctx.Err() == nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not look for lapsed wrap-ups")
	}
	for _, w := range due {
		if err = b.doTxn(ctx, func(ctx context.Context) error { return b.expireWrapUp(ctx, w) }); err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Int64("conversation", w.Conversation).Msg("Could not end a lapsed wrap-up")
		}
	}
	if len(due) > 0 {
		b.outbox.Wake()
	}
}

func (b *Bridge) expireWrapUp(ctx context.Context, w *database.WrapUp) error {
	settled, err := b.DB.WrapUps().Settle(ctx, w.Conversation, "", "", database.WrapUpByTimeout, b.now())
	if err != nil || !settled {
		return err
	}
	t := b.TenantByID(w.TenantID)
	conv, err := b.DB.Conversation.Get(ctx, w.Conversation)
	if err != nil || conv == nil || t == nil {
		return err
	}
	c := t.convo(conv, nil)
	key := outboxKey("wrapup-lapsed", w.Conversation)
	return firstErr(
		c.wrapUpOver(ctx, w, w.Deadline),
		b.closeWrapUpQuestion(ctx, t, w, bot.WrapUpLapsed(w.Conversation), "No code"),
		b.DB.Outbox.Enqueue(ctx, key, w.Room, t.UserID, event.EventMessage, bot.Notice(bot.WrapUpLapsed(w.Conversation)), b.now()),
	)
}

// noteCommand adds a note to the agent's last wrap-up (!note text).
func (b *Bridge) noteCommand(ctx context.Context, call *controlCall) error {
	j, t := call.j, call.t
	body := j.evt.Content.AsMessage().Body
	_, text, _ := strings.Cut(strings.TrimSpace(body), " ")
	text = strings.TrimSpace(text)
	w, err := b.DB.WrapUps().Last(ctx, t.ID, call.staff.UserID)
	if err != nil {
		return err
	}
	return j.Commit(ctx, func(ctx context.Context) error {
		switch {
		case w == nil:
			return b.reply(ctx, j, t, bot.NoteNothingToWrap)
		case text == "":
			return b.reply(ctx, j, t, bot.NoteUsage)
		case len([]rune(w.Note))+len([]rune(text)) >= bot.MaxWrapUpNote:
			return b.reply(ctx, j, t, bot.NoteTooLong)
		}
		note := text
		if w.Note != "" {
			note = w.Note + "\n" + text
		}
		return firstErr(b.DB.WrapUps().SetNote(ctx, w.Conversation, note), b.reply(ctx, j, t, bot.NoteAdded(w.Conversation)))
	})
}
