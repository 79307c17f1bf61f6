package bridge

import (
	"context"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
)

// Canned replies: !canned lists the tenant's replies in the side room; !c <name> in
// the desk room sends one to the customer as the agent's message, through the same
// relay as anything the agent writes there (the customer's copy, the side room's
// mirror, the event map, the first-response log), so the agent can reply to it, edit
// it or redact it like their own words.
//
// Placeholders are filled from what consent allows: the customer's name is read
// through the consent gate, only when the reply asks for it, and comes back only with
// identity shared in this conversation. It goes into the customer's copy alone: the
// side room's mirror fills it empty, since staff rooms show the customer by pseudonym
// (a name there would outlive a withdrawal).

// cannedReplies are the tenant's replies: the config's, overridden by name by those
// set through the admin API.
func (t *Tenant) cannedReplies(ctx context.Context) ([]bot.CannedReply, error) {
	stored, err := t.b.DB.CannedReplies().OfTenant(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	byName := map[string]string{}
	for _, r := range t.AgentTools.CannedReplies {
		byName[r.Name] = r.Text
	}
	for _, r := range stored {
		byName[r.Name] = r.Text
	}
	out := make([]bot.CannedReply, 0, len(byName))
	for name, text := range byName {
		out = append(out, bot.CannedReply{Name: name, Text: text})
	}
	return out, nil
}

// cannedReply finds one of the tenant's replies by name ("" when there is none).
func (t *Tenant) cannedReply(ctx context.Context, name string) (string, error) {
	stored, err := t.b.DB.CannedReplies().Get(ctx, t.ID, name)
	if err != nil || stored != nil {
		if stored != nil {
			return stored.Text, nil
		}
		return "", err
	}
	for _, r := range t.AgentTools.CannedReplies {
		if r.Name == name {
			return r.Text, nil
		}
	}
	return "", nil
}

// cannedListCommand answers !canned with the tenant's replies.
func cannedListCommand(ctx context.Context, call *conversationCall) error {
	replies, err := call.t.cannedReplies(ctx)
	if err != nil {
		return err
	}
	return call.answer(ctx, bot.CannedList(replies))
}

// cannedSendCommand sends a canned reply to the customer as the agent's message.
func cannedSendCommand(ctx context.Context, call *conversationCall) error {
	evt := call.evt()
	if call.role[evt.Sender] != database.RoleAgent {
		return call.answer(ctx, bot.CannedNotYours)
	}
	if len(call.cmd.Args) == 0 {
		return call.answer(ctx, bot.CannedUsage)
	}
	name := strings.ToLower(call.cmd.Args[0])
	text, err := call.t.cannedReply(ctx, name)
	if err != nil {
		return err
	}
	if text == "" {
		return call.answer(ctx, bot.CannedUnknown(name))
	}
	facts := bot.CannedFacts{Agent: call.who, Business: call.t.Name}
	mirror := bot.FillCanned(text, facts)
	if strings.Contains(text, "{"+bot.PlaceholderFirstName+"}") || strings.Contains(text, "{"+bot.PlaceholderName+"}") {
		view, err := call.b.Consent.Read(ctx, consent.Access{Subject: call.subject(), Conversation: call.ID, Reader: "canned-reply"}, consent.Identity)
		if err != nil {
			return err
		}
		if view.Identity != nil {
			facts.Name = view.Identity.Name
		}
	}
	toCustomer := &event.MessageEventContent{MsgType: event.MsgText, Body: bot.FillCanned(text, facts)}
	mirrored := &event.MessageEventContent{MsgType: event.MsgText, Body: mirror}
	if len(call.agents) > 1 {
		toCustomer = signed(toCustomer, call.who)
		toCustomer.BeeperPerMessageProfile = &event.BeeperPerMessageProfile{ID: call.who, Displayname: call.who, HasFallback: true}
	}
	relays := []relay{
		{call.RoomID, call.t.UserID, event.EventMessage, toCustomer},
		{call.SideRoom, call.t.UserID, event.EventMessage, signed(mirrored, call.who)},
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", call.ID).Str("canned", name).Msg("Sending a canned reply")
	return firstErr(call.logAgentMessage(ctx, evt.Sender), call.b.queueRelays(ctx, call.ID, evt, evt.Sender, relays))
}

// cannedByName is the config's canned replies by name, as the admin API lists them.
func cannedByName(replies []config.CannedReply) map[string]string {
	out := make(map[string]string, len(replies))
	for _, r := range replies {
		out[r.Name] = r.Text
	}
	return out
}
