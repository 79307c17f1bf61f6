package bot

import "fmt"

// Texts of call supervision, transfers during a call and recording.

const (
	// NoLiveCall answers a supervision command when the conversation has no call.
	NoLiveCall = "There is no live call in this conversation."
	// NotInCall answers !whisper, !barge or !leave from someone not in a call.
	NotInCall = "You are not in a call: use **!listen** first."
	// ListenUsage answers !listen in a control room without a number.
	ListenUsage = "Use **!listen** *number* (see **!conversations**), or **!listen** in the conversation's side room."
	// NoControlRoom: the supervisor has no control room to be rung in yet.
	NoControlRoom = "Your control room is not ready yet: try again in a moment."
	// CallRecordingNotice tells the customer a call is recorded (tenant setting
	// notice), and how to refuse.
	CallRecordingNotice = "This call is recorded for quality and training. Send **!privacy** to refuse the **recording** and it stops at once."
	// SideRecording marks the side room while a call is recorded.
	SideRecording = "● recording"
	// SideRecordingStopped says the recording stopped.
	SideRecordingStopped = "○ recording stopped"
)

// SupervisorRinging tells a supervisor their call is coming.
func SupervisorRinging(conv int64, mode string) string {
	return fmt.Sprintf("📞 Calling you to %s on conversation #%d: answer in this room.", mode, conv)
}

// SupervisionNotice tells the agent in the side room what a supervisor does now.
func SupervisionNotice(supervisor, mode string) string {
	switch mode {
	case "listen":
		return fmt.Sprintf("🎧 %s is listening to the call (nobody hears them).", supervisor)
	case "whisper":
		return fmt.Sprintf("🗣 %s is whispering: you hear them, the customer does not.", supervisor)
	case "barge":
		return fmt.Sprintf("📢 %s joined the call: the customer and you hear them.", supervisor)
	case "left":
		return fmt.Sprintf("%s left the call.", supervisor)
	}
	return fmt.Sprintf("%s: %s", supervisor, mode)
}

// SupervisionMode confirms a mode to the supervisor.
func SupervisionMode(mode string) string {
	switch mode {
	case "listen":
		return "🎧 Listening: you hear the customer and the agent; nobody hears you."
	case "whisper":
		return "🗣 Whispering: the agent hears you, the customer does not."
	case "barge":
		return "📢 Barged in: the customer and the agent hear you."
	}
	return mode
}

// CallTransferRinging tells the side room a call moves to another agent.
func CallTransferRinging(by, agent string, warm bool) string {
	if warm {
		return fmt.Sprintf("📞 %s is transferring the call to %s; they stay on the call until **!leave**.", by, agent)
	}
	return fmt.Sprintf("📞 %s transferred the call to %s.", by, agent)
}

// CallInviteRinging tells the side room an agent is added to the call.
func CallInviteRinging(by, agent string) string {
	return fmt.Sprintf("📞 %s added %s to the call: it rings them now.", by, agent)
}
