package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge/transport"
	"github.com/contactcenter/contactcenter/database"
)

// Outbox entries that are not events but room actions, queued behind whatever the
// sender says first so that order holds (a notice, then the leave). They are never
// sent as events.
var (
	LeaveAction  = event.Type{Type: "fi.contactcenter.leave", Class: event.MessageEventType}
	InviteAction = event.Type{Type: "fi.contactcenter.invite", Class: event.MessageEventType}
	KickAction   = event.Type{Type: "fi.contactcenter.kick", Class: event.MessageEventType}
	StateAction  = event.Type{Type: "fi.contactcenter.state", Class: event.MessageEventType}
)

// memberAction is the content of an invite or kick.
type memberAction struct {
	UserID id.UserID `json:"user_id"`
	Reason string    `json:"reason,omitempty"`
	// Direct marks an invite as a DM's (is_direct), as createRoom's would be.
	Direct bool `json:"direct,omitempty"`
}

// stateAction is the content of a state change.
type stateAction struct {
	Type     string `json:"type"`
	StateKey string `json:"state_key"`
	Content  any    `json:"content"`
}

// sendOutbox is the transport's sender: it performs one outbox row as the user it is
// queued for.
func (b *Bridge) sendOutbox(ctx context.Context, entry *database.OutboxEntry) (id.EventID, error) {
	client := b.senderClient(entry.Sender)
	if client == nil {
		return "", transport.Permanent(errors.New("outbox row from an unknown sender"))
	}
	return b.send(ctx, client, entry)
}

// senderClient is the client that sends as one of our users.
func (b *Bridge) senderClient(sender id.UserID) *mautrix.Client {
	if t := b.tenants[sender]; t != nil {
		return t.Client
	}
	if b.isOurs(sender) {
		return b.AS.Intent(sender).Client
	}
	return nil
}

// refused tells whether the homeserver answered with a client error other than rate
// limiting: retrying the same request is unlikely to help.
func refused(err error) bool { return transport.Refused(err) }

// outboxKey builds an outbox dedupe key (see transport.Key).
func outboxKey(kind string, parts ...any) string { return transport.Key(kind, parts...) }

// errSkip means an outbox entry has nothing left to do: it refers to an event that was
// never relayed into its room (a bot prompt, a message that was given up).
var errSkip = transport.ErrNothingToSend

// send performs one outbox entry.
func (b *Bridge) send(ctx context.Context, client *mautrix.Client, entry *database.OutboxEntry) (id.EventID, error) {
	txnID := transport.TxnID(entry)
	switch entry.EventType.Type {
	case LeaveAction.Type:
		_, err := client.LeaveRoom(ctx, entry.RoomID)
		if errors.Is(err, mautrix.MForbidden) {
			return "", nil // not in the room any more: done
		}
		return "", err
	case InviteAction.Type, KickAction.Type:
		var action memberAction
		if err := json.Unmarshal(entry.Content, &action); err != nil {
			return "", permanent(err)
		}
		return "", memberChange(ctx, client, entry, action)
	case StateAction.Type:
		var action stateAction
		if err := json.Unmarshal(entry.Content, &action); err != nil {
			return "", permanent(err)
		}
		if err := b.translatePins(ctx, entry, &action); err != nil {
			return "", err
		}
		resp, err := client.SendStateEvent(ctx, entry.RoomID, event.Type{Type: action.Type, Class: event.StateEventType}, action.StateKey, action.Content)
		if err != nil {
			return "", err
		}
		return resp.EventID, nil
	}
	content := entry.Content
	if entry.RefsFrom != "" {
		var err error
		if content, err = b.translateRefs(ctx, entry); err != nil {
			return "", err
		}
	}
	if entry.EventType == event.EventRedaction {
		var redaction struct {
			Redacts id.EventID `json:"redacts"`
			Reason  string     `json:"reason,omitempty"`
		}
		if err := json.Unmarshal(content, &redaction); err != nil {
			return "", permanent(err)
		}
		resp, err := client.RedactEvent(ctx, entry.RoomID, redaction.Redacts, mautrix.ReqRedact{Reason: redaction.Reason, TxnID: txnID})
		if err != nil {
			return "", err
		}
		return resp.EventID, nil
	}
	req := mautrix.ReqSendEvent{TransactionID: txnID}
	if client.Crypto != nil {
		// The client would ask the state store on every send; the answer is cached.
		encrypted, err := b.encryptedRooms.isEncrypted(ctx, entry.RoomID, b.now(), b.StateStore.IsEncrypted)
		if err != nil {
			return "", err
		}
		req.DontEncrypt = !encrypted
	}
	resp, err := client.SendMessageEvent(ctx, entry.RoomID, entry.EventType, content, req)
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// memberChange invites or kicks; one already done counts as done.
func memberChange(ctx context.Context, client *mautrix.Client, entry *database.OutboxEntry, action memberAction) error {
	var err error
	switch {
	case entry.EventType == InviteAction && action.Direct:
		// The invite endpoint has no is_direct; the member event itself carries it.
		_, err = client.SendStateEvent(ctx, entry.RoomID, event.StateMember, action.UserID.String(),
			&event.MemberEventContent{Membership: event.MembershipInvite, IsDirect: true, Reason: action.Reason})
	case entry.EventType == InviteAction:
		_, err = client.InviteUser(ctx, entry.RoomID, &mautrix.ReqInviteUser{UserID: action.UserID, Reason: action.Reason})
	default:
		_, err = client.KickUser(ctx, entry.RoomID, &mautrix.ReqKickUser{UserID: action.UserID, Reason: action.Reason})
	}
	if transport.Refused(err) {
		// Already a member (invite) or already gone (kick): nothing is left to do, and
		// a real lack of power would not heal by retrying either.
		zerolog.Ctx(ctx).Debug().Err(err).Stringer("user_id", action.UserID).Msg("Membership change refused; nothing to do")
		return nil
	}
	return err
}

// translate maps an event ID from one room to another through the event map, once
// the sends made so far are recorded: the map learns a copy's event ID when its send
// is recorded, which happens behind the sends. Inside a transaction it cannot wait
// (the records commit through the same committer): handlers wait before they commit
// (sendsKnown).
func (b *Bridge) translate(ctx context.Context, from id.RoomID, evt id.EventID, to id.RoomID) (id.EventID, error) {
	if t := b.transport.Load(); t != nil && !b.inTxn(ctx) {
		if err := t.Recorded(ctx); err != nil {
			return "", err
		}
	}
	return b.DB.EventMap.Translate(ctx, from, evt, to)
}

// inTxn tells whether ctx carries a database transaction.
func (b *Bridge) inTxn(ctx context.Context) bool {
	_, ok := b.DB.Execable(ctx).(dbutil.Transaction)
	return ok
}

// translatePins rewrites the events a pinned-events change names, like translateRefs
// does for relations (the context card is pinned before its event ID is known).
func (b *Bridge) translatePins(ctx context.Context, entry *database.OutboxEntry, action *stateAction) error {
	content, _ := action.Content.(map[string]any)
	pinned, _ := content["pinned"].([]any)
	if entry.RefsFrom == "" || action.Type != event.StatePinnedEvents.Type || pinned == nil {
		return nil
	}
	out := make([]string, 0, len(pinned))
	for _, p := range pinned {
		s, _ := p.(string)
		target, err := b.translate(ctx, entry.RefsFrom, id.EventID(s), entry.RoomID)
		if err != nil {
			return err
		} else if target != "" {
			out = append(out, string(target))
		}
	}
	content["pinned"] = out
	return nil
}

// mayRefer tells whether content may name another event: most relayed messages do
// not, and are sent as they were queued. The content is the service's own JSON, whose
// keys are never escaped; the names appearing elsewhere only cost the full look.
func mayRefer(content json.RawMessage) bool {
	return bytes.Contains(content, []byte(`"m.relates_to"`)) || bytes.Contains(content, []byte(`"redacts"`))
}

// translateRefs rewrites the event IDs an entry's content refers to, from the room
// they were written in to the entry's room, through the event map. This happens at
// send time: the referenced copy was queued earlier in the same room, so it has been
// sent by now. A reply to something never relayed loses its reply; an edit, reaction
// or redaction of it is skipped.
func (b *Bridge) translateRefs(ctx context.Context, entry *database.OutboxEntry) (json.RawMessage, error) {
	if !mayRefer(entry.Content) {
		return entry.Content, nil
	}
	var content map[string]any
	if err := json.Unmarshal(entry.Content, &content); err != nil {
		return nil, permanent(err)
	}
	translate := func(evtID any) (string, error) {
		s, _ := evtID.(string)
		if s == "" {
			return "", nil
		}
		out, err := b.translate(ctx, entry.RefsFrom, id.EventID(s), entry.RoomID)
		return string(out), err
	}
	if redacts, ok := content["redacts"]; ok {
		target, err := translate(redacts)
		if err != nil || target == "" {
			return nil, errors.Join(err, errSkip)
		}
		content["redacts"] = target
	}
	rel, _ := content["m.relates_to"].(map[string]any)
	if rel != nil {
		if reply, _ := rel["m.in_reply_to"].(map[string]any); reply != nil {
			target, err := translate(reply["event_id"])
			if err != nil {
				return nil, err
			} else if target == "" {
				delete(rel, "m.in_reply_to")
			} else {
				reply["event_id"] = target
			}
		}
		if relType, _ := rel["rel_type"].(string); relType != "" {
			target, err := translate(rel["event_id"])
			switch {
			case err != nil:
				return nil, err
			case target == "" && (relType == string(event.RelReplace) || relType == string(event.RelAnnotation)):
				return nil, errSkip
			case target == "":
				delete(rel, "rel_type")
				delete(rel, "event_id")
				delete(rel, "is_falling_back")
			default:
				rel["event_id"] = target
			}
		}
		if len(rel) == 0 {
			delete(content, "m.relates_to")
		}
	}
	return json.Marshal(content)
}
