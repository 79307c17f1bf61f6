package voice

import "fmt"

// Mode is how a leg beside the call (a supervisor, or a conference participant)
// takes part: who hears it. Such a leg always hears the customer and the agent.
type Mode int

// The modes of a leg beside the call, as contact centers name them (Asterisk
// ChanSpy, Amazon Connect, Twilio Flex).
const (
	// ModeListen: silent monitoring; nobody hears the leg.
	ModeListen Mode = iota
	// ModeWhisper: coaching; the agent hears the leg, the customer never does.
	ModeWhisper
	// ModeBarge: a full participant; everyone hears the leg.
	ModeBarge
)

func (m Mode) String() string {
	switch m {
	case ModeListen:
		return "listen"
	case ModeWhisper:
		return "whisper"
	case ModeBarge:
		return "barge"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeListen, ModeWhisper, ModeBarge} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("voice: mode %q must be listen, whisper or barge", s)
}

// Position is where a leg sits in a call for the mode table.
type Position int

// Positions: the customer, the agent bridged to them, and every other leg.
const (
	PosCustomer Position = iota
	PosAgent
	PosBeside // a supervisor or participant, with a Mode
)

func (p Position) String() string {
	return [...]string{"customer", "agent", "beside"}[p]
}

// heardBy is the mode table: for a leg beside the call in a mode, which
// positions hear it. The customer and the agent always hear each other, and a
// leg beside the call always hears both of them.
var heardBy = [...][3]bool{
	//            customer agent  beside
	ModeListen:  {false, false, false},
	ModeWhisper: {false, true, false},
	ModeBarge:   {true, true, true},
}

// Hears tells whether the listener hears the speaker. speakerMode counts only
// for a speaker beside the call.
func Hears(listener, speaker Position, speakerMode Mode) bool {
	switch {
	case speaker == PosBeside:
		if speakerMode < 0 || int(speakerMode) >= len(heardBy) {
			return false
		}
		return heardBy[speakerMode][listener]
	case listener == PosBeside:
		return true
	default:
		return listener != speaker
	}
}
