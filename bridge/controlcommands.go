package bridge

import (
	"context"
	"strconv"
	"strings"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// The commands of a staff member's control room (see controlCommands); answers to
// offers are in offers.go.

// setStatusCommand answers !ready, !away, !busy and !offline.
func (b *Bridge) setStatusCommand(ctx context.Context, c *controlCall) error {
	newStatus, err := routing.ParseStatus(c.spec.Name)
	if err != nil {
		return err // a status command whose name is no status: a mistake in the table
	}
	t, staff := c.t, c.staff
	return c.j.Commit(ctx, func(ctx context.Context) error {
		if err := b.setStaffStatus(ctx, t, staff.UserID, newStatus, b.now()); err != nil {
			return err
		}
		if err := b.reply(ctx, c.j, t, bot.StatusNow(string(newStatus))); err != nil {
			return err
		}
		if newStatus == routing.Ready {
			// Back at work: lapsed offers from before count no more towards RONA.
			return firstErr(b.DB.Staff.ResetMissed(ctx, t.ID, staff.UserID), b.offerWaiting(ctx, t))
		}
		return nil
	})
}

// statusCommand answers !status.
func (b *Bridge) statusCommand(ctx context.Context, c *controlCall) error {
	reply := bot.Status(string(c.staff.Status), c.staff.StatusChangedAt)
	return c.j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, c.j, c.t, reply) })
}

// offerAnswerCommand answers "accept" and "decline" typed in the control room.
func (b *Bridge) offerAnswerCommand(ctx context.Context, c *controlCall) error {
	return b.handleOfferAnswer(ctx, c.j, c.t, c.staff, c.spec == bot.CmdAccept, 0)
}

// conversationsCommand answers !conversations.
func (b *Bridge) conversationsCommand(ctx context.Context, c *controlCall) error {
	reply, err := b.listConversations(ctx, c.t)
	if err != nil {
		return err
	}
	return c.j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, c.j, c.t, reply) })
}

// monitorCommand joins a supervisor to a conversation's side room. Only the tenant's
// own conversations can be found: another tenant's look like no conversation at all.
func (b *Bridge) monitorCommand(ctx context.Context, c *controlCall) error {
	j, t, staff, args := c.j, c.t, c.staff, c.cmd.Args
	var conv *database.Conversation
	var err error
	if len(args) == 1 {
		if convID, parseErr := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64); parseErr == nil {
			conv, err = b.DB.Conversation.Get(ctx, convID)
		}
	}
	if err != nil {
		return err
	}
	return j.Commit(ctx, func(ctx context.Context) error {
		switch {
		case len(args) != 1:
			return b.reply(ctx, j, t, bot.MonitorUsage())
		case conv == nil || conv.TenantID != t.ID || conv.Status == database.StatusClosed:
			return b.reply(ctx, j, t, bot.NoOpenConversation(args[0]))
		}
		return firstErr(
			t.convo(conv, j).addMonitor(ctx, staff.UserID),
			b.reply(ctx, j, t, bot.MonitorInvited(conv.ID)),
		)
	})
}

// listConversations answers !conversations with the tenant's open conversations.
func (b *Bridge) listConversations(ctx context.Context, t *Tenant) (string, error) {
	open, err := b.DB.Conversation.OpenOfTenant(ctx, t.ID)
	if err != nil {
		return "", err
	}
	if len(open) == 0 {
		return bot.NoOpenConversations, nil
	}
	lines := make([]string, 0, len(open))
	for _, conv := range open {
		state := bot.ConversationWaiting
		if conv.Agent != "" {
			state = bot.ConversationWith(t.staffName(conv.Agent))
		} else if conv.OfferedTo != "" {
			state = bot.ConversationOfferedTo(t.staffName(conv.OfferedTo))
		}
		lines = append(lines, bot.ConversationLine(conv.ID, t.convo(conv, nil).customerName(), state, b.now().Sub(conv.OpenedAt)))
	}
	return bot.ConversationList(lines), nil
}
