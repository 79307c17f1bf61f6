// Package bot composes what the service says in rooms: texts rendered from the
// tenant's Markdown, always as notices so other bots never answer them.
package bot

import (
	"fmt"
	"strings"

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

// MediaUnavailable tells the customer that a file they sent could not be fetched or
// read, so the agents did not get it.
const MediaUnavailable = "Your file could not be fetched, so our agents did not get it. Please send it again."

// MediaTooLarge tells the customer that a file they sent was over the limit (in MB),
// so the agents did not get it.
func MediaTooLarge(limitMB int64) string {
	return fmt.Sprintf("Your file is too large for us (the limit is %d MB), so our agents did not get it. Please send a smaller one.", limitMB)
}

// Why a customer's file did not reach staff, as MediaNotRelayed tells them.
const (
	MediaTooLargeForStaff    = "it is over the size the service copies"
	MediaUnavailableForStaff = "it could not be fetched from the customer's server"
)

// MediaNotRelayed stands in the desk room for a customer's file that did not come. It
// is plain text, never Markdown: the file name is the customer's.
func MediaNotRelayed(fileName, why string) string {
	return "📎 " + fileName + ": this file was not passed on (" + why + "). The customer was told."
}

// PrivacyStatusOnly answers !privacy when the tenant can ask this customer nothing:
// what it may see (Markdown list lines), with nothing to answer.
func PrivacyStatusOnly(tenant string, lines []string) string {
	if len(lines) == 0 {
		return tenant + " asks for none of your context: it sees only what you write here."
	}
	return "What " + tenant + " may see now:\n\n" + strings.Join(lines, "\n") + "\n\nThere is nothing " + tenant + " can ask you to share in this chat."
}

// Answers to a party over its limits (config: limits).
const (
	SlowDown     = "You are sending messages faster than we can read them. We will not see what you send for a moment; please wait a little, then write again."
	TooManyRooms = "You opened many conversations with us in a short time. Please continue in one of them, or try again later."
	TooManyCodes = "You sent many codes in a short time; we did not check the last ones. Please wait a few minutes and send your code again."
)
