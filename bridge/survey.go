package bridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/reporting"
)

// The satisfaction survey. When an agent ends a conversation with the customer still
// in the room, the customer is asked one question after the closing message: a poll
// rated 1 to 5 and the same as text. A vote answers it any time; a text answer ("4")
// counts within the tenant's answer_within and while no new conversation is open
// (later, or otherwise, text is the customer talking). The rating is stored with the
// conversation, shown in the side room and counted in the contact log. One survey per
// conversation (its row is the guard); none when the tenant turns it off, none for a
// conversation nobody served, never to a customer who left.

// surveyOriginPrefix starts a survey poll's name in the event map.
const surveyOriginPrefix = "cc:survey:"

func surveyOrigin(conv int64) string { return fmt.Sprintf("%s%d", surveyOriginPrefix, conv) }

// afterEnd is what follows the end of a conversation, in its transaction: the agent's
// wrap-up question and the customer's survey.
func (c *convo) afterEnd(ctx context.Context, customerPresent bool) error {
	if err := c.askWrapUp(ctx); err != nil {
		return err
	}
	return c.sendSurvey(ctx, customerPresent)
}

// sendSurvey asks the customer to rate the conversation, if the tenant wants it and
// they are there to answer.
func (c *convo) sendSurvey(ctx context.Context, customerPresent bool) error {
	b, t := c.b, c.t
	if !customerPresent || t.AgentTools.Survey.Disabled || c.Agent == "" || c.Customer == "" {
		return nil
	}
	if room, err := b.DB.CustomerRoom.Get(ctx, c.RoomID); err != nil || room == nil || !room.LeftAt.IsZero() {
		return err
	}
	if ms, err := b.StateStore.GetMembership(ctx, c.RoomID, c.Customer); err != nil || ms != event.MembershipJoin {
		return err
	}
	now, origin, question := b.now(), surveyOrigin(c.ID), t.AgentTools.SurveyQuestion()
	added, err := b.DB.Surveys().Add(ctx, &database.Survey{Conversation: c.ID, TenantID: t.ID, Room: c.RoomID, Origin: origin,
		Question: question, AskedAt: now, Deadline: now.Add(t.AgentTools.SurveyWindow())})
	if err != nil || !added {
		return err
	}
	return firstErr(
		b.queueOwn(ctx, c.RoomID, t.UserID, origin, event.EventUnstablePollStart, bot.SurveyPoll(question)),
		b.queueOwn(ctx, c.RoomID, t.UserID, origin+textPromptSuffix, event.EventMessage, bot.Notice(bot.SurveyText(question))),
	)
}

// surveyInput takes a customer's answer to a survey: a vote on its poll, or, with no
// conversation open, a text that is a rating alone. handled is false for anything
// else, which goes on as usual. early: a vote on an event not recorded yet is retried.
func (b *Bridge) surveyInput(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) (bool, error) {
	evt := j.evt
	switch evt.Type {
	case event.EventUnstablePollResponse, eventPollResponse:
		target := referencedPoll(evt.Content.Raw)
		if target == "" {
			return false, nil
		}
		origin, err := b.translate(ctx, evt.RoomID, target, evt.RoomID)
		if err == nil && origin == "" && j.entry.Attempts < answerRetries {
			return false, errNotYetKnown
		}
		if err != nil || !strings.HasPrefix(string(origin), surveyOriginPrefix) {
			return false, err
		}
		s, err := b.DB.Surveys().ByOrigin(ctx, string(origin))
		if err != nil || s == nil {
			return s != nil, err
		}
		_, rating, ok := bot.ParseSurveyVote(evt.Content.Raw)
		if !ok {
			return true, nil // a retracted vote
		}
		return true, j.Commit(ctx, func(ctx context.Context) error { return b.answerSurvey(ctx, j, t, s, rating, "poll") })
	case event.EventMessage:
	default:
		return false, nil
	}
	msg := evt.Content.AsMessage()
	if msg.MsgType != event.MsgText || msg.RelatesTo.GetReplaceID() != "" {
		return false, nil
	}
	rating, ok := bot.ParseSurveyText(msg.Body)
	if !ok {
		return false, nil
	}
	s, err := b.DB.Surveys().Open(ctx, room.RoomID, b.now())
	if err != nil || s == nil {
		return false, err
	}
	if open, err := b.DB.Conversation.Open(ctx, room.RoomID); err != nil || open != nil {
		return false, err // a new conversation has begun: the digit is for its agent
	}
	return true, j.Commit(ctx, func(ctx context.Context) error { return b.answerSurvey(ctx, j, t, s, rating, "text") })
}

// answerSurvey stores the rating (the first one counts), edits the question to show
// it, closes the poll and tells the side room.
func (b *Bridge) answerSurvey(ctx context.Context, j *job, t *Tenant, s *database.Survey, rating int, method string) error {
	now := b.now()
	answered, err := b.DB.Surveys().Answer(ctx, s.Conversation, rating, method, now)
	if err != nil || !answered {
		return err
	}
	conv, err := b.DB.Conversation.Get(ctx, s.Conversation)
	if err != nil || conv == nil {
		return err
	}
	c := t.convo(conv, j)
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Int("rating", rating).Str("method", method).Msg("Survey answered")
	return firstErr(
		c.logEntry(ctx, reporting.SurveyAnswered, "", strconv.Itoa(rating), "survey", now),
		b.DB.Outbox.EnqueueRelay(ctx, outboxKey(s.Origin, "answered"), s.Room, t.UserID, event.EventMessage,
			bot.Replacement(id.EventID(s.Origin+textPromptSuffix), bot.SurveyAnswered(s.Question, rating)), s.Room, now),
		b.DB.Outbox.EnqueueRelay(ctx, outboxKey(s.Origin, "end"), s.Room, t.UserID, event.EventUnstablePollEnd,
			bot.SurveyPollEnd(id.EventID(s.Origin), rating), s.Room, now),
		c.sideNotice(ctx, "survey", bot.SurveySide(rating)),
	)
}
