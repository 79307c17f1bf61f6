package bot

import (
	"fmt"
	"time"
)

// Answers to !dashboard.

// DashboardLink answers !dashboard with a one-time link to the live dashboard. The
// link is a credential: it signs in whoever opens it first, until it expires. pinned:
// the room also shows the dashboard as a widget.
func DashboardLink(link string, lifetime time.Duration, pinned bool) string {
	s := fmt.Sprintf("Your live dashboard: %s\n\nThe link works once, for %s, and only for you: do not share it.", link, lifetimeText(lifetime))
	if pinned {
		s += " In Element the dashboard is also pinned at the top of this room."
	}
	return s
}

// DashboardOff answers !dashboard when the service serves no dashboard.
const DashboardOff = "The live dashboard is not configured on this service (dashboard.public_url). Ask an administrator."

// DashboardUnavailable answers !dashboard when no link could be made.
const DashboardUnavailable = "No dashboard link could be made just now. Try again in a moment."

// lifetimeText writes a lifetime in whole minutes ("10 minutes"), or hours when it is
// whole hours.
func lifetimeText(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	}
	return plural(int(d/time.Second), "second")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
