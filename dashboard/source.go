package dashboard

import (
	"context"
	"sync"

	"maunium.net/go/mautrix/id"
)

// Source gives the dashboard its figures; the bridge implements it over the database
// and the router.
type Source interface {
	// Snapshot returns the tenant's figures for viewer. For supervisors the dashboard
	// passes Viewer{Role: RoleSupervisor} with no user, once for all of them; for an
	// agent, the agent. The dashboard narrows whatever comes back (ForViewer), so a
	// Source may return the whole tenant's figures to anyone.
	Snapshot(ctx context.Context, tenant string, viewer Viewer) (*Snapshot, error)
	// Subscribe returns a channel that receives a value after the tenant's figures may
	// have changed, and a function that ends the subscription. Changes may be merged:
	// one value can stand for many. Notifier implements it.
	Subscribe(tenant string) (<-chan struct{}, func())
}

// Staff tells who works for a tenant, and as what.
type Staff interface {
	// StaffRole is the user's role at the tenant; ok is false for anyone who is not the
	// tenant's staff now (removed staff included).
	StaffRole(ctx context.Context, tenant string, user id.UserID) (role Role, ok bool, err error)
}

// Notifier fans change notices out to the dashboards watching a tenant. A notice never
// blocks the caller: a subscriber that has not yet taken the previous one gets the two
// as one, which is all a dashboard needs (it reads the whole snapshot again).
type Notifier struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// Notify tells the tenant's subscribers that its figures may have changed.
func (n *Notifier) Notify(tenant string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs[tenant] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Subscribe implements Source.Subscribe.
func (n *Notifier) Subscribe(tenant string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.subs == nil {
		n.subs = map[string]map[chan struct{}]struct{}{}
	}
	if n.subs[tenant] == nil {
		n.subs[tenant] = map[chan struct{}]struct{}{}
	}
	n.subs[tenant][ch] = struct{}{}
	n.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			delete(n.subs[tenant], ch)
			if len(n.subs[tenant]) == 0 {
				delete(n.subs, tenant)
			}
		})
	}
}
