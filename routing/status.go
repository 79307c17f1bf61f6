package routing

import "fmt"

// Status is a staff member's availability.
type Status string

const (
	// Ready: may be offered conversations.
	Ready Status = "ready"
	// Away: at work, but not taking new conversations.
	Away Status = "away"
	// Offline: not at work. Everyone starts offline.
	Offline Status = "offline"
)

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case Ready, Away, Offline:
		return st, nil
	}
	return "", fmt.Errorf("status %q must be ready, away or offline", s)
}
