package bridge

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/routing"
)

// Staff and the workflow live in the database: the config seeds the staff once (a
// row changed or removed through the admin API stays as it is), and the admin API
// changes both while the service runs. Every replica holds a copy, read at start and
// read again on the routing tick whenever the tenant's version has grown, so a change
// made through any replica reaches all of them within a tick, without a restart.

// tenantLive is the tenant's copy of what the database holds and may change.
type tenantLive struct {
	staff           atomic.Pointer[[]routing.Staff]
	staffVersion    atomic.Int64
	workflowVersion atomic.Int64
	// roomsDirty: staff came or went; their rooms are to be set up or taken away.
	roomsDirty atomic.Bool
	// settling: a goroutine is setting the rooms up (one at a time per tenant).
	settling atomic.Bool
}

// staff is the tenant's staff as last read from the database (the config's before
// the first read: a bridge made for measuring routing alone).
func (t *Tenant) staff() []routing.Staff {
	if p := t.live.staff.Load(); p != nil {
		return *p
	}
	return t.Tenant.Staff
}

// seedStaffProfiles puts the config's admin API keys and staff into the database,
// before the tenants start. The config manages the staff it lists (added, changed,
// taken off between starts); whoever the admin API changed or removed is the API's.
func (b *Bridge) seedStaffProfiles(ctx context.Context) error {
	now := b.now()
	if err := b.DB.AdminKeys.SyncConfig(ctx, b.Config.AdminKeys(), now); err != nil {
		return fatal(ExitDatabase, "the admin API keys could not be stored", err)
	}
	for i := range b.Config.Tenants {
		tc := &b.Config.Tenants[i]
		changed, err := b.DB.StaffProfiles.Seed(ctx, tc.ID, tc.Staff, now)
		if err != nil {
			return fatal(ExitDatabase, "the staff could not be stored", fmt.Errorf("tenant %s: %w", tc.ID, err))
		}
		if changed > 0 {
			zerolog.Ctx(ctx).Info().Str("tenant", tc.ID).Int("changed", changed).Msg("Staff from the config stored")
		}
	}
	return nil
}

// loadLive reads the tenant's staff and workflow for its router at start.
func (b *Bridge) loadLive(ctx context.Context, t *Tenant) (*routing.Workflow, error) {
	if _, err := b.readStaff(ctx, t); err != nil {
		return nil, err
	}
	wf, version, err := b.storedWorkflow(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	t.live.workflowVersion.Store(version)
	if wf == nil {
		wf = t.RoutingWorkflow()
	}
	return wf, nil
}

// readStaff reads the tenant's staff if their version grew since the last read, and
// returns the previous list (nil when nothing changed).
func (b *Bridge) readStaff(ctx context.Context, t *Tenant) (previous []routing.Staff, err error) {
	version, err := b.DB.StaffProfiles.Version(ctx, t.ID)
	if err != nil || (version <= t.live.staffVersion.Load() && t.live.staff.Load() != nil) {
		return nil, err
	}
	profiles, err := b.DB.StaffProfiles.OfTenant(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	list := make([]routing.Staff, len(profiles))
	for i, p := range profiles {
		list[i] = p.Staff
	}
	previous = t.staff()
	t.live.staff.Store(&list)
	t.live.staffVersion.Store(version)
	return previous, nil
}

// storedWorkflow is the workflow set through the admin API (nil: none) and its version.
func (b *Bridge) storedWorkflow(ctx context.Context, tenantID string) (*routing.Workflow, int64, error) {
	stored, err := b.DB.Workflows.Get(ctx, tenantID)
	if err != nil || stored == nil {
		return nil, 0, err
	}
	var wf routing.Workflow
	if err = yaml.NewDecoder(bytes.NewReader([]byte(stored.Source))).Decode(&wf); err != nil {
		return nil, stored.Version, fmt.Errorf("tenant %s: stored workflow: %w", tenantID, err)
	}
	return &wf, stored.Version, nil
}

// refreshLive brings the tenant's staff and workflow in line with the database when
// their versions grew: the router learns who joined, changed or left, and the rooms
// of those who came or went are set up on the next tick (settleStaffRooms).
func (b *Bridge) refreshLive(ctx context.Context, t *Tenant) error {
	previous, err := b.readStaff(ctx, t)
	if err != nil {
		return err
	}
	if previous != nil {
		if b.applyStaff(ctx, t, previous, t.staff()) {
			t.live.roomsDirty.Store(true)
		}
	}
	stored, err := b.DB.Workflows.Get(ctx, t.ID)
	if err != nil || stored == nil || stored.Version <= t.live.workflowVersion.Load() {
		return err
	}
	wf, version, err := b.storedWorkflow(ctx, t.ID)
	if err != nil {
		return err
	}
	if err = t.router.SetWorkflow(wf); err != nil {
		return fmt.Errorf("tenant %s: stored workflow: %w", t.ID, err)
	}
	t.live.workflowVersion.Store(version)
	zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Int64("version", version).Msg("Workflow replaced")
	return nil
}

// applyStaff tells the router how the staff changed; it reports whether anyone came
// or went (their rooms change).
func (b *Bridge) applyStaff(ctx context.Context, t *Tenant, before, after []routing.Staff) (cameOrWent bool) {
	log := zerolog.Ctx(ctx).With().Str("tenant", t.ID).Logger()
	old := make(map[string]routing.Staff, len(before))
	for _, s := range before {
		old[s.UserID] = s
	}
	for _, s := range after {
		prev, known := old[s.UserID]
		delete(old, s.UserID)
		if !known {
			cameOrWent = true
			log.Info().Str("staff", s.UserID).Msg("Staff member added")
		}
		switch {
		case s.Role == routing.RoleAgent:
			if err := t.router.AddAgent(s); err != nil {
				log.Warn().Err(err).Str("staff", s.UserID).Msg("Router refused a staff member")
			}
		case known && prev.Role == routing.RoleAgent:
			_ = t.router.RemoveAgent(s.UserID)
		}
	}
	for userID, s := range old {
		cameOrWent = true
		log.Info().Str("staff", userID).Msg("Staff member removed")
		if s.Role == routing.RoleAgent {
			_ = t.router.RemoveAgent(userID)
		}
	}
	return cameOrWent
}

// settleStaffRooms sets up the rooms of staff who came and takes those who went out
// of theirs, in the background (room creation is slow and may have to wait for an
// account), once per tenant at a time; it retries until nothing is left to do.
func (b *Bridge) settleStaffRooms(ctx context.Context, t *Tenant) {
	if !t.live.roomsDirty.Load() || !t.live.settling.CompareAndSwap(false, true) {
		return
	}
	t.live.roomsDirty.Store(false)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer t.live.settling.Store(false)
		wait := time.Second
		for {
			if b.settleTenantRooms(ctx, t) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, controlRoomRetry)
		}
	}()
}

// settleTenantRooms is one try of settleStaffRooms, under the tenant's set-up lease.
func (b *Bridge) settleTenantRooms(ctx context.Context, t *Tenant) bool {
	key := id.RoomID("tenant:" + t.ID)
	if b.setupLease != nil {
		if ok, err := b.setupLease.Acquire(ctx, key); err != nil || !ok {
			return false
		}
		defer b.setupLease.Release(ctx, key)
	}
	done := b.ensureTenantRooms(ctx, t)
	if err := b.inviteStaffToSpace(ctx, t); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("tenant", t.ID).Msg("Could not invite staff into the space")
		done = false
	}
	return done
}

// inviteStaffToSpace invites the staff into the tenant's space, once each (the same
// keys as the space's first invites).
func (b *Bridge) inviteStaffToSpace(ctx context.Context, t *Tenant) error {
	space, err := b.DB.TenantSpace.Get(ctx, t.ID)
	if err != nil || space == nil {
		return err
	}
	defer b.outbox.Wake()
	for _, s := range t.staff() {
		if err := b.DB.Outbox.Enqueue(ctx, outboxKey("space-invite", space.RoomID, s.UserID), space.RoomID, t.UserID,
			InviteAction, memberAction{UserID: id.UserID(s.UserID)}, b.now()); err != nil {
			return err
		}
	}
	return nil
}

// StaffChanged applies the tenant's staff as the database holds them now (the admin
// API changed them on this replica); the others learn it on their tick.
func (b *Bridge) StaffChanged(ctx context.Context, tenantID string) error {
	t := b.TenantByID(tenantID)
	if t == nil {
		return fmt.Errorf("no tenant %q", tenantID)
	}
	if err := b.refreshLive(ctx, t); err != nil {
		return err
	}
	return b.syncRouter(ctx, t)
}

// WorkflowReplaced applies the tenant's stored workflow at once.
func (b *Bridge) WorkflowReplaced(ctx context.Context, tenantID string) error {
	t := b.TenantByID(tenantID)
	if t == nil {
		return fmt.Errorf("no tenant %q", tenantID)
	}
	return b.refreshLive(ctx, t)
}
