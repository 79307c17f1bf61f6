package bridge

import (
	"testing"

	"github.com/contactcenter/contactcenter/bot"
)

// Every command of the table has a function in each kind of room it is heard in, and
// no function is bound where its command is not heard.
func TestEveryCommandIsBound(t *testing.T) {
	for _, c := range bot.Commands {
		_, control := controlCommands[c]
		_, conversation := conversationCommands[c]
		_, customer := customerCommands[c]
		if want := c.Rooms&bot.RoomControl != 0; control != want {
			t.Errorf("%s: bound in the control room %v, heard there %v", c.Name, control, want)
		}
		if want := c.Rooms&bot.RoomConversation != 0; conversation != want {
			t.Errorf("%s: bound in desk and side rooms %v, heard there %v", c.Name, conversation, want)
		}
		if want := c.Rooms&bot.RoomCustomer != 0; customer != want {
			t.Errorf("%s: bound in the customer room %v, heard there %v", c.Name, customer, want)
		}
	}
	for _, bound := range []int{len(controlCommands), len(conversationCommands), len(customerCommands)} {
		if bound == 0 {
			t.Error("a room kind has no commands bound")
		}
	}
}

func TestCustomerCommands(t *testing.T) {
	for body, want := range map[string]*bot.CommandSpec{
		"!privacy":          bot.CmdPrivacy,
		"!Identify LINK-AB": bot.CmdIdentify,
		"privacy":           nil, // without "!" it is talk
		"!help":             nil, // staff's, not the customer's: relayed as talk
		"!ready":            nil,
	} {
		run, spec := customerCommandIn(body)
		if spec != want || (run == nil) != (want == nil) {
			t.Errorf("%q: %v, want %v", body, spec, want)
		}
	}
}
