package bot

import (
	"strings"
	"testing"
	"time"
)

// Every command heard in a room is in that room's help, with each of its names.
func TestHelpListsEveryCommand(t *testing.T) {
	for _, room := range []RoomKind{RoomControl, RoomDesk, RoomSide} {
		help := Commands.Help(room)
		for _, c := range Commands {
			listed := strings.Contains(help, "**"+commandWord(c)+"**")
			if heard := c.Rooms&room != 0; listed != heard {
				t.Errorf("room %d: %s listed %v, heard %v\n%s", room, c.Name, listed, heard, help)
			}
		}
	}
	if !strings.Contains(ControlHelp, "**!monitor** *number*: watch a conversation from its side room (supervisors)") {
		t.Errorf("the control help names who may monitor:\n%s", ControlHelp)
	}
	if strings.Contains(SideHelp, "(agents") {
		t.Errorf("the side help marks commands everyone may use:\n%s", SideHelp)
	}
}

func TestCommandNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Commands {
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			if seen[name] {
				t.Errorf("%q names two commands", name)
			}
			seen[name] = true
		}
		if c.Roles == 0 || c.Rooms == 0 || c.Help.Description == "" {
			t.Errorf("%s: roles, rooms and help are required: %+v", c.Name, c)
		}
	}
}

func TestResolve(t *testing.T) {
	hello := &CommandSpec{Name: "hello", Aliases: []string{"hi"}, Help: CommandHelp{Description: "greet"}, Roles: RoleSupervisor, Rooms: RoomSide}
	tbl := CommandTable{hello}
	cases := []struct {
		room    RoomKind
		role    Role
		name    string
		spec    *CommandSpec
		refusal string
	}{
		{RoomSide, RoleSupervisor, "hello", hello, ""},
		{RoomSide, RoleSupervisor, "hi", hello, ""},
		{RoomSide, RoleAgent, "hi", nil, CommandNotForYou(hello)},
		{RoomControl, RoleSupervisor, "hello", nil, CommandNotHere(hello)},
		// Someone who may not use it anywhere is not told where it works.
		{RoomControl, RoleAgent, "hello", nil, UnknownCommand("hello")},
		{RoomSide, RoleSupervisor, "dance", nil, UnknownCommand("dance")},
	}
	for _, tc := range cases {
		spec, refusal := tbl.Resolve(tc.room, tc.role, tc.name)
		if spec != tc.spec || refusal != tc.refusal {
			t.Errorf("%s in %d as %d: %v %q, want %v %q", tc.name, tc.room, tc.role, spec, refusal, tc.spec, tc.refusal)
		}
	}
	if got := CommandNotForYou(CmdMonitor); got != "Only supervisors can use **!monitor**." {
		t.Errorf("monitor refusal: %q", got)
	}
	if got := CommandNotHere(CmdInvite); got != "**!invite** works only in a conversation's desk or side room." {
		t.Errorf("invite elsewhere: %q", got)
	}
}

// Tests compare what clients receive with these texts: a notice's plain body must be
// the Markdown itself.
func TestRepliesKeepTheirTextInTheBody(t *testing.T) {
	since := time.Date(2024, 3, 5, 14, 7, 0, 0, time.UTC)
	for _, text := range []string{
		StatusNow("ready"), Status("away", since), Status("offline", time.Time{}), UnknownCommand("dance"),
		CommandNotForYou(CmdMonitor), OfferWon(12), OfferDeclined(12), NoOpenConversation("12"), MonitorInvited(12),
		ConversationWith("Dave"), AgentAdded("Sam", "Dave"), AgentRemoved("Carol", "Dave"), HandedOver("Sam", "Carol"),
		Requeued("Carol"), EndedBy("Sam"), DirectChatsOnly, EncryptionUnsupported,
	} {
		if body := Notice(text).Body; body != text {
			t.Errorf("body %q, want %q", body, text)
		}
	}
	if got := Status("away", since); got != "You are **away** (since 14:07 UTC, 5 Mar)." {
		t.Errorf("status: %q", got)
	}
}
