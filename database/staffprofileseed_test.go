package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/routing"
)

// TestSeedManagesTheConfigsStaff: between starts the config adds, changes, takes off
// and brings back the staff it lists; someone the admin API changed or removed is
// left as the API made them.
func TestSeedManagesTheConfigsStaff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		carol := routing.Staff{UserID: "@carol:b", Name: "Carol", Role: routing.RoleAgent, Capacity: 2}
		dave := routing.Staff{UserID: "@dave:b", Name: "Dave", Role: routing.RoleAgent, Capacity: 2}
		erin := routing.Staff{UserID: "@erin:b", Name: "Erin", Role: routing.RoleAgent, Capacity: 2}
		seed := func(staff ...routing.Staff) int {
			t.Helper()
			now = now.Add(time.Second)
			n, err := db.StaffProfiles.Seed(ctx, "acme", staff, now)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		onStaff := func() map[string]int {
			t.Helper()
			list, err := db.StaffProfiles.OfTenant(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int{}
			for _, p := range list {
				out[p.UserID] = p.Capacity
			}
			return out
		}
		if n := seed(carol, dave, erin); n != 3 {
			t.Fatalf("first seed changed %d", n)
		}
		if n := seed(carol, dave, erin); n != 0 {
			t.Errorf("the same config changed %d rows", n)
		}
		v1, _ := db.StaffProfiles.Version(ctx, "acme")
		carol.Capacity = 4
		if n := seed(carol, erin); n != 2 {
			t.Errorf("capacity changed and Dave taken off: %d rows", n)
		}
		if got := onStaff(); len(got) != 2 || got["@carol:b"] != 4 {
			t.Errorf("after the change: %v", got)
		}
		if v2, _ := db.StaffProfiles.Version(ctx, "acme"); v2 <= v1 {
			t.Errorf("version %d after %d", v2, v1)
		}
		if n := seed(carol, dave, erin); n != 1 {
			t.Errorf("Dave back: %d rows", n)
		}
		// The API removes Erin and changes Carol: the config does not undo either.
		if removed, err := db.StaffProfiles.Remove(ctx, "acme", erin.UserID, now); err != nil || !removed {
			t.Fatal(removed, err)
		}
		api, _ := db.StaffProfiles.Get(ctx, "acme", carol.UserID)
		api.Capacity, api.UpdatedAt = 7, now
		if err := db.StaffProfiles.Put(ctx, api); err != nil {
			t.Fatal(err)
		}
		seed(carol, dave, erin)
		if got := onStaff(); len(got) != 2 || got["@carol:b"] != 7 || got["@dave:b"] != 2 {
			t.Errorf("after the API's changes and another seed: %v", got)
		}
		seed(dave, erin) // the config dropping Carol leaves the API's Carol alone
		if got := onStaff(); got["@carol:b"] != 7 {
			t.Errorf("the config removed the API's Carol: %v", got)
		}
	})
}
