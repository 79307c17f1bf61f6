package bot

import (
	"fmt"
	"strings"
	"time"
)

// Texts about voice calls.
const (
	// CallsNeedLegacyClient answers a MatrixRTC call attempt (Element X, Element
	// Call): the service takes 1:1 calls only.
	CallsNeedLegacyClient = "We cannot take this kind of call yet. To talk to a person, write to us here, " +
		"or call us from a client with 1:1 voice calls (Element Web or Desktop)."
	// CallsOff answers a call when the service takes no calls.
	CallsOff = "We do not take calls here. Write to us and an agent will answer."
	// CallNobodyAnswered tells a caller their call ran out of time before an agent
	// answered.
	// CallAlreadyLive answers a second call while one is live in the same room.
	CallAlreadyLive    = "You are already on a call with us."
	CallNobodyAnswered = "Nobody could answer your call in time. Write to us here and an agent will answer as soon as one is free."
)

// CallStartedMirror is the side room's line when an agent answers a call.
func CallStartedMirror(customer, agent string) string {
	return fmt.Sprintf("📞 call started: %s ↔ %s", customer, agent)
}

// CallEndedMirror is the side room's line when a call ends.
func CallEndedMirror(customer string) string {
	return fmt.Sprintf("📞 call ended: %s", customer)
}

// CallRinging tells the side room which agent is being rung.
func CallRinging(customer, agent string) string {
	return fmt.Sprintf("📞 %s is calling; ringing %s.", customer, agent)
}

// CallSummary is the side room's record of a call: who, when, how long, outcome.
type CallSummary struct {
	Customer  string
	Agent     string // who answered ("" if nobody)
	Rung      []string
	Started   time.Time
	Duration  time.Duration
	Outcome   string // answered, abandoned, missed, failed
	EndReason string
	EndedBy   string // customer, agent, service
}

// Text renders the summary as Markdown.
func (s CallSummary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "📞 **Call summary** · %s\n\n", s.Outcome)
	fmt.Fprintf(&b, "- Caller: %s\n", s.Customer)
	if s.Agent != "" {
		fmt.Fprintf(&b, "- Answered by: %s\n", s.Agent)
	}
	if len(s.Rung) > 0 {
		fmt.Fprintf(&b, "- Rang: %s\n", strings.Join(s.Rung, ", "))
	}
	fmt.Fprintf(&b, "- Started: %s UTC\n", s.Started.UTC().Format("2006-01-02 15:04:05"))
	if s.Agent != "" {
		fmt.Fprintf(&b, "- Duration: %s\n", s.Duration.Round(time.Second))
	}
	end := s.EndReason
	if s.EndedBy != "" {
		end += " (" + s.EndedBy + ")"
	}
	fmt.Fprintf(&b, "- Ended: %s", end)
	return b.String()
}

// CallMissed tells an agent, in their control room, that a call of a conversation
// they were rung for passed on unanswered; away adds that this made them away
// (RONA: missed calls count with missed offers).
func CallMissed(convID int64, timeout time.Duration, missed int, away bool) string {
	text := fmt.Sprintf("📞 A call of conversation **%d** went to someone else: no answer within %s.", convID, timeout)
	if away {
		text += fmt.Sprintf(" That is %d unanswered offers or calls in a row, so you are now **away**. Send **!ready** when you are back.", missed)
	}
	return text
}

// CallPassedOn is why an agent who was brought into a conversation for a call,
// and did not answer it, is taken out of its rooms.
const CallPassedOn = "the call went to another agent"

// CallPassedOnNotice tells the side room that an agent who did not answer the
// call no longer serves the conversation.
func CallPassedOnNotice(agent string) string {
	return fmt.Sprintf("📞 %s did not take the call and no longer serves this conversation.", agent)
}
