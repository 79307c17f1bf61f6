package outbound

import (
	"sync"
	"time"

	// Zones must load where the system has no zone database (minimal containers).
	_ "time/tzdata"
)

// ZoneSource says where the customer's time zone came from.
type ZoneSource string

const (
	// ZoneLocation: the region of the location the customer consented to share.
	ZoneLocation ZoneSource = "location"
	// ZoneProfile: the m.tz field of the customer's Matrix profile.
	ZoneProfile ZoneSource = "profile"
	// ZoneTenant: the tenant's default, since the customer's own is unknown.
	ZoneTenant ZoneSource = "tenant"
	// ZoneUTC: nothing usable was known, not even the tenant's default.
	ZoneUTC ZoneSource = "utc"
)

// zones caches loaded zones: time.LoadLocation parses zone data on every call.
var zones sync.Map // string → *time.Location

func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// resolveZone takes the first usable zone: location, profile, tenant. An empty name
// is unknown, and a name that is not an IANA zone is passed over; "Local" would be
// the service's own zone, not the customer's.
func resolveZone(location, profile, tenant string) (*time.Location, string, ZoneSource) {
	for _, c := range []struct {
		name   string
		source ZoneSource
	}{{location, ZoneLocation}, {profile, ZoneProfile}, {tenant, ZoneTenant}} {
		if c.name == "" || c.name == "Local" {
			continue
		}
		if loc, err := loadZone(c.name); err == nil {
			return loc, c.name, c.source
		}
	}
	return time.UTC, "UTC", ZoneUTC
}
