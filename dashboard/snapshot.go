package dashboard

import "time"

// Role is what a staff member may see: a supervisor the whole tenant, an agent only
// their own figures. The values are those of routing.Role.
type Role string

const (
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
)

// Viewer is who a snapshot is taken for. Supervisors of a tenant all see the same
// figures, so the dashboard asks for them once with an empty UserID.
type Viewer struct {
	UserID string `json:"user_id,omitempty"`
	Role   Role   `json:"role"`
}

// AgentStatus is an agent's availability as the dashboard shows it.
type AgentStatus string

const (
	StatusReady   AgentStatus = "ready"
	StatusBusy    AgentStatus = "busy" // serving conversations up to capacity
	StatusAway    AgentStatus = "away"
	StatusOffline AgentStatus = "offline"
	StatusWrapUp  AgentStatus = "wrap_up"
	StatusOnCall  AgentStatus = "on_call"
)

// Statuses lists every status in the order the page shows them.
var Statuses = []AgentStatus{StatusReady, StatusBusy, StatusOnCall, StatusWrapUp, StatusAway, StatusOffline}

// Snapshot is a tenant's real-time figures at one moment, as the Source gives them.
// The dashboard narrows it for each viewer (see ForViewer) before anything is sent.
type Snapshot struct {
	Tenant     string    `json:"tenant"`
	TenantName string    `json:"tenant_name,omitempty"`
	At         time.Time `json:"at"` // when the figures were taken, by the service's clock
	Queue      Queue     `json:"queue"`
	Agents     []Agent   `json:"agents"`
	// Today is the team's figures since midnight in the tenant's time zone.
	Today Figures `json:"today"`
	// History is the team's last hours, oldest first, one bucket an hour.
	History       []Bucket       `json:"history"`
	Conversations []Conversation `json:"conversations"`
}

// Queue is what waits for an agent now.
type Queue struct {
	Waiting int `json:"waiting"`
	// OldestSince is when the longest-waiting contact was queued (nil: none waits);
	// the page counts its age up by itself between updates.
	OldestSince *time.Time `json:"oldest_since,omitempty"`
	OffersOpen  int        `json:"offers_open"`
}

// Agent is one staff member who takes conversations.
type Agent struct {
	UserID   string      `json:"user_id"`
	Name     string      `json:"name,omitempty"`
	Status   AgentStatus `json:"status"`
	Since    *time.Time  `json:"since,omitempty"` // in this status since
	Load     int         `json:"load"`            // conversations served now
	Capacity int         `json:"capacity"`
	// Today and History are this agent's own figures: an agent's dashboard shows these
	// in place of the team's.
	Today   *Figures `json:"today,omitempty"`
	History []Bucket `json:"history,omitempty"`
}

// Figures are counts and times since midnight in the tenant's time zone. The formulas
// are the reports' (see reporting): the dashboard shows them as given.
type Figures struct {
	Queued    int `json:"queued"`
	Handled   int `json:"handled"`
	Abandoned int `json:"abandoned"`
	Missed    int `json:"missed"`
	// ASASeconds is the average speed of answer, queue → accept (nil: nothing accepted).
	ASASeconds *float64 `json:"asa_seconds,omitempty"`
	// ServiceLevel is the share (0-1) accepted within ServiceLevelSeconds (nil: nothing
	// queued yet); ServiceLevelTarget is the share the tenant aims for.
	ServiceLevel        *float64 `json:"service_level,omitempty"`
	ServiceLevelSeconds int      `json:"service_level_seconds,omitempty"`
	ServiceLevelTarget  float64  `json:"service_level_target,omitempty"`
}

// Bucket is one hour of the chart.
type Bucket struct {
	Start     time.Time `json:"start"`
	Queued    int       `json:"queued"`
	Handled   int       `json:"handled"`
	Abandoned int       `json:"abandoned"`
}

// Conversation is an open conversation.
type Conversation struct {
	ID       string    `json:"id"`       // opaque
	Customer string    `json:"customer"` // as staff see the customer: a name or a pseudonym
	State    string    `json:"state"`    // queued, offered, active, waiting, wrap_up…
	Since    time.Time `json:"since"`
	Step     string    `json:"step,omitempty"` // the workflow step it waits at
	AgentID  string    `json:"agent_id,omitempty"`
	Agent    string    `json:"agent,omitempty"` // the agent's name
	// SideRoom is the room staff discuss it in; Via are servers that can route a join.
	SideRoom string   `json:"side_room,omitempty"`
	Via      []string `json:"via,omitempty"`
	// Link is the side room's matrix.to link, filled in by the dashboard.
	Link string `json:"link,omitempty"`
}
