// Package bot composes what the service says in rooms: texts rendered from the
// tenant's Markdown, always as notices so other bots never answer them.
package bot

import (
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
)

// Notice renders Markdown into a notice with a plain-text body for every client.
func Notice(markdown string) *event.MessageEventContent {
	content := format.RenderMarkdown(markdown, true, false)
	content.MsgType = event.MsgNotice
	return &content
}

// Texts the service uses in customer rooms besides the tenant's own.
const (
	EncryptionUnsupported = "This service cannot read encrypted messages. Please start a conversation without encryption."
	DirectChatsOnly       = "We only talk in direct chats, so that nobody else reads your conversation. Please start a direct chat with us."
	UnreadableMessage     = "We could not read one of your messages (it was encrypted with keys we never received). Please send it again."
)

// NotStaffAnyMore answers a command in the control room of someone who is no longer
// on the tenant's staff: the room stays, but it serves them no more.
func NotStaffAnyMore(tenant string) string {
	return "You are no longer on " + tenant + "'s staff, so this room takes no more commands. Ask an administrator if that is a mistake."
}
