package bridge

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/dashboard"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/routing"
)

// The supervisors' live dashboard (package dashboard) as the service runs it: the
// handler on the service's listener, the figures from the database and the contact
// log (dashboardsource.go), a change notice after every commit that changes them, the
// widget in supervisors' control rooms (dashboardwidget.go) and !dashboard.
//
// Sessions and one-time links live in this process's memory: with replicas, the
// dashboard's path is routed to one of them (see the README).

// dashboardWiring is the running dashboard.
type dashboardWiring struct {
	server *dashboard.Server
	source *dashboardSource
}

// initDashboard builds the dashboard when dashboard.public_url is set. It runs after
// the database opens (it registers for the contact log's entries) and before the
// listener starts (which mounts it).
func (b *Bridge) initDashboard(ctx context.Context) error {
	cfg := &b.Config.Dashboard
	if !cfg.Enabled() {
		return nil
	}
	verifier, err := dashboard.NewVerifier(dashboard.VerifierOptions{
		// The service reaches its own homeserver at homeserver.address, which answers the
		// OpenID userinfo request there; other homeservers over federation.
		Local:            map[string]string{b.Config.Homeserver.Domain: b.Config.Homeserver.Address},
		InsecureTLS:      cfg.FederationInsecureTLS,
		PrivateAddresses: cfg.FederationPrivateAddresses,
	})
	if err != nil {
		return fatal(ExitConfig, "check homeserver.address", err)
	}
	src := newDashboardSource(ctx, b)
	server, err := dashboard.New(dashboard.Options{
		Source:          src,
		Staff:           dashboardStaff{b},
		Verifier:        verifier,
		PublicURL:       cfg.PublicURL,
		SessionLifetime: cfg.Session(),
		LinkLifetime:    cfg.Link(),
		Log:             b.Log.With().Str("component", "dashboard").Logger(),
		Now:             func() time.Time { return b.now() },
	})
	if err != nil {
		return fatal(ExitConfig, "check dashboard.public_url", err)
	}
	b.dash = &dashboardWiring{server: server, source: src}
	// Everything the page shows changes with an entry of the contact log (a conversation
	// queued, offered, accepted, transferred, ended or abandoned, a status, a call): the
	// entry is appended in the transaction of the change, so the notice follows its commit.
	b.DB.ContactLog.Observe(func(ctx context.Context, e reporting.Entry) { b.dashboardChanged(ctx, e.Tenant) })
	return nil
}

// dashboardChanged tells the tenant's open dashboards, once the transaction under way
// commits, that its figures changed (once per transaction).
func (b *Bridge) dashboardChanged(ctx context.Context, tenantID string) {
	if b.dash == nil || tenantID == "" {
		return
	}
	b.afterCommitOnce(ctx, "dashboard|"+tenantID, func(context.Context) { b.dash.source.changed(tenantID) })
}

// dashboardStaff is the tenant's staff as the dashboard asks for them at every sign-in,
// renewal, stream and snapshot: the live staff list in memory, which the admin API and
// the config change, so that someone taken off the staff loses the dashboard with
// their next request.
type dashboardStaff struct{ b *Bridge }

func (s dashboardStaff) StaffRole(_ context.Context, tenantID string, user id.UserID) (dashboard.Role, bool, error) {
	if !s.b.tenantsReady.Load() {
		return "", false, nil
	}
	t := s.b.TenantByID(tenantID)
	if t == nil {
		return "", false, nil
	}
	entry := t.staffEntry(user)
	if entry == nil {
		return "", false, nil
	}
	switch entry.Role {
	case routing.RoleSupervisor:
		return dashboard.RoleSupervisor, true, nil
	case routing.RoleAgent:
		return dashboard.RoleAgent, true, nil
	}
	return "", false, nil
}

// dashboardCommand answers !dashboard with a one-time link for the staff member whose
// control room it is. The reply is a credential: it is never logged.
func (b *Bridge) dashboardCommand(ctx context.Context, c *controlCall) error {
	reply := bot.DashboardOff
	if b.dash != nil {
		link, err := b.dash.server.NewOneTimeLink(c.t.ID, c.staff.UserID)
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("tenant", c.t.ID).Msg("Could not make a dashboard link")
			reply = bot.DashboardUnavailable
		} else {
			entry := c.t.staffEntry(c.staff.UserID)
			pinned := entry != nil && widgetWanted(entry.Role)
			reply = bot.DashboardLink(link, b.Config.Dashboard.Link(), pinned)
		}
	}
	return c.j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, c.j, c.t, reply) })
}
