package dashboard

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ErrOtherTenant is a snapshot that belongs to another tenant than the one asked for:
// a fault in the Source, refused rather than shown.
var ErrOtherTenant = errors.New("dashboard: snapshot of another tenant")

// ForViewer returns what the viewer of tenant may see of s, as a copy (s is left as
// it was, so one snapshot can serve many viewers):
//   - a supervisor sees everything;
//   - an agent sees the queue (what waits, not who is offered it), their own status,
//     their own figures and chart in place of the team's, and only their own open
//     conversations; nothing about any other agent.
//
// Any other role sees nothing. Side-room links are filled in.
func ForViewer(s *Snapshot, tenant string, v Viewer) (*Snapshot, error) {
	if s == nil {
		return nil, errors.New("dashboard: no snapshot")
	}
	if s.Tenant != tenant {
		return nil, fmt.Errorf("%w: asked for %q, got %q", ErrOtherTenant, tenant, s.Tenant)
	}
	out := &Snapshot{Tenant: s.Tenant, TenantName: s.TenantName, At: s.At, Queue: s.Queue}
	if s.Queue.OldestSince != nil {
		t := *s.Queue.OldestSince
		out.Queue.OldestSince = &t
	}
	switch v.Role {
	case RoleSupervisor:
		out.Today = copyFigures(s.Today)
		out.History = slices.Clone(s.History)
		for _, a := range s.Agents {
			out.Agents = append(out.Agents, copyAgent(a))
		}
		for _, c := range s.Conversations {
			out.Conversations = append(out.Conversations, copyConversation(c))
		}
	case RoleAgent:
		if v.UserID == "" {
			return nil, errors.New("dashboard: an agent's view needs the agent")
		}
		out.Queue.OffersOpen = 0
		for _, a := range s.Agents {
			if a.UserID != v.UserID {
				continue
			}
			self := copyAgent(a)
			if self.Today != nil {
				out.Today = *self.Today
			}
			out.History = self.History
			self.Today, self.History = nil, nil
			out.Agents = []Agent{self}
			break
		}
		for _, c := range s.Conversations {
			if c.AgentID == v.UserID {
				out.Conversations = append(out.Conversations, copyConversation(c))
			}
		}
	default:
		return nil, fmt.Errorf("dashboard: unknown role %q", v.Role)
	}
	// The page iterates these: empty lists, never null.
	if out.Agents == nil {
		out.Agents = []Agent{}
	}
	if out.History == nil {
		out.History = []Bucket{}
	}
	if out.Conversations == nil {
		out.Conversations = []Conversation{}
	}
	return out, nil
}

func copyFigures(f Figures) Figures {
	if f.ASASeconds != nil {
		v := *f.ASASeconds
		f.ASASeconds = &v
	}
	if f.ServiceLevel != nil {
		v := *f.ServiceLevel
		f.ServiceLevel = &v
	}
	return f
}

func copyAgent(a Agent) Agent {
	if a.Since != nil {
		t := *a.Since
		a.Since = &t
	}
	if a.Today != nil {
		f := copyFigures(*a.Today)
		a.Today = &f
	}
	a.History = slices.Clone(a.History)
	return a
}

func copyConversation(c Conversation) Conversation {
	c.Via = slices.Clone(c.Via)
	c.Link = MatrixToRoom(c.SideRoom, c.Via...)
	return c
}

// MatrixToRoom is the matrix.to link to a room ("" for no room). Via names servers
// that can route a join; without them a client tries the server in the room ID.
func MatrixToRoom(roomID string, via ...string) string {
	if roomID == "" {
		return ""
	}
	link := "https://matrix.to/#/" + url.QueryEscape(roomID)
	if len(via) > 0 {
		q := make([]string, len(via))
		for i, s := range via {
			q[i] = "via=" + url.QueryEscape(s)
		}
		link += "?" + strings.Join(q, "&")
	}
	return link
}
