package routing

import "time"

// Task is a conversation waiting for an agent, as routing sees it. Whoever builds it
// fills fields only from context the customer consented to share; routing treats an
// empty field as unknown (see Expr for what that means in expressions).
type Task struct {
	// ID names the conversation; exclusions and queue positions are per task.
	ID string
	// Tier is the customer's tier from account data ("gold").
	Tier string
	// AccountManager is the user ID of the customer's account manager.
	AccountManager string
	// Region is the tenant's region for the customer's location; Language the
	// language they write in (a tag such as "pt").
	Region, Language string
	// Topics come from browsing (URL patterns) or what the customer asked about.
	Topics []string
	// Anonymous customers are never routed to an account manager: having one would
	// mean routing knows who they are.
	Anonymous bool
	// Priority is the base priority; workflow rules add to it. Higher goes first.
	Priority int
	// EnqueuedAt is when the task started waiting: its age orders equal priorities
	// and decides which workflow step applies.
	EnqueuedAt time.Time
}
