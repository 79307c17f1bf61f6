package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
)

// Staff who leave a conversation's rooms by themselves (Element's "Leave room", or
// rejecting the invite). An agent leaving the desk room is out of the conversation,
// as after !remove; when they were its last agent the conversation goes back to the
// queue and is not offered to them again. A supervisor leaving the side room stops
// monitoring. Kicks are the service's own and are not read here.

// staffLeft takes a membership event in a room that is no customer room: a staff
// member's own leave of an open conversation's desk or side room.
func (b *Bridge) staffLeft(ctx context.Context, j *job) error {
	evt := j.evt
	leaver := id.UserID(evt.GetStateKey())
	if evt.Content.AsMember().Membership != event.MembershipLeave || evt.Sender != leaver || b.isOurs(leaver) {
		return nil
	}
	conv, err := b.DB.Conversation.ByStaffRoom(ctx, evt.RoomID)
	if err != nil || conv == nil || conv.Status == database.StatusClosed {
		return err
	}
	c := b.convoOf(conv, j)
	if c == nil {
		return nil
	}
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		return err
	}
	var role database.StaffRole
	otherAgents := 0
	for _, p := range participants {
		switch {
		case p.UserID == leaver:
			role = p.Role
		case p.Role == database.RoleAgent:
			otherAgents++
		}
	}
	switch {
	case evt.RoomID == conv.DeskRoom && role == database.RoleAgent:
		zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Stringer("agent", leaver).Int("agents_left", otherAgents).
			Msg("An agent left the desk room")
		return j.Commit(ctx, func(ctx context.Context) error { return c.agentLeft(ctx, leaver, otherAgents) })
	case evt.RoomID == conv.SideRoom && role == database.RoleMonitor:
		return j.Commit(ctx, func(ctx context.Context) error {
			return firstErr(
				b.DB.Participants.Remove(ctx, conv.ID, leaver, b.now()),
				c.sideNotice(ctx, "monitor-left|"+j.Key(), bot.MonitorLeft(c.t.staffName(leaver))),
			)
		})
	}
	return nil
}

// agentLeft takes an agent who left the desk room out of the conversation: back to
// the queue without them if nobody else serves it, else out of the side room too.
func (c *convo) agentLeft(ctx context.Context, agent id.UserID, otherAgents int) error {
	name := c.t.staffName(agent)
	if otherAgents == 0 {
		return c.requeue(ctx, []id.UserID{agent}, bot.AgentLeftRequeued(name))
	}
	now := c.b.now()
	return firstErr(
		c.b.DB.Participants.Remove(ctx, c.ID, agent, now),
		c.enqueue(ctx, outboxKey("left-desk", c.ID, agent, now.UnixMilli()), c.SideRoom, c.t.UserID, KickAction,
			memberAction{UserID: agent, Reason: bot.LeftDeskRoom}),
		c.sideNotice(ctx, "agent-left|"+c.j.Key(), bot.AgentLeft(name)),
	)
}
