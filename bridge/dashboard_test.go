package bridge

import (
	"context"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/routing"
)

// The widget and its layout are queued once per control room for the same content,
// however often the service starts, once more when the dashboard's URL changes, and
// never for an agent.
func TestDashboardWidgetQueuedOncePerContent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		cfg := config.Example()
		cfg.Dashboard.PublicURL = "https://cc.example.com/_contactcenter/dashboard/"
		b := New(cfg, zerolog.Nop())
		b.DB = db
		b.dash = &dashboardWiring{}
		tc := &cfg.Tenants[0]
		tenant := &Tenant{Tenant: tc, UserID: cfg.BusinessUserID(tc), b: b}
		sam := routing.Staff{UserID: "@sam:example.com", Name: "Sam", Role: routing.RoleSupervisor}
		carol := routing.Staff{UserID: "@carol:example.com", Name: "Carol", Role: routing.RoleAgent}
		samRoom, carolRoom := id.RoomID("!sam:example.com"), id.RoomID("!carol:example.com")
		queued := func(room id.RoomID) int {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE room_id = $1", room).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for range 3 { // three starts
			if err := firstErr(b.ensureDashboardWidget(ctx, tenant, sam, samRoom), b.ensureDashboardWidget(ctx, tenant, carol, carolRoom)); err != nil {
				t.Fatal(err)
			}
		}
		if n := queued(samRoom); n != 2 {
			t.Fatalf("supervisor's room: %d rows queued, want the widget and its layout", n)
		}
		if n := queued(carolRoom); n != 0 {
			t.Fatalf("agent's room: %d rows queued", n)
		}
		cfg.Dashboard.PublicURL = "https://dashboard.example.com/_contactcenter/dashboard/"
		for range 2 {
			if err := b.ensureDashboardWidget(ctx, tenant, sam, samRoom); err != nil {
				t.Fatal(err)
			}
		}
		if n := queued(samRoom); n != 4 {
			t.Fatalf("after the URL moved: %d rows queued, want 4", n)
		}
	})
}
