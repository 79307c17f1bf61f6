package routing

import "fmt"

// Status is a staff member's availability.
type Status string

const (
	// Ready: may be offered conversations.
	Ready Status = "ready"
	// Busy: at work and set themselves busy (a call, a meeting): offered nothing new,
	// but unlike Away it says they are working.
	Busy Status = "busy"
	// Away: at work, but not taking new conversations. Also what an agent is set to
	// after too many unanswered offers.
	Away Status = "away"
	// Offline: not at work. Everyone starts offline.
	Offline Status = "offline"
)

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case Ready, Busy, Away, Offline:
		return st, nil
	}
	return "", fmt.Errorf("status %q must be ready, busy, away or offline", s)
}
