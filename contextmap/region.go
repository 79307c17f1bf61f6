package contextmap

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sync"
	"time"

	// Regions name IANA time zones; embed the database so that machines (and
	// containers) without tzdata still load them.
	_ "time/tzdata"
)

// Region is a tenant-configured area with the attributes routing uses:
//
//	regions:
//	  - name: london
//	    center: [51.507, -0.128]
//	    radius_km: 40
//	    time_zone: Europe/London
//	    language: en
//	  - name: uk
//	    box: [49.8, -8.7, 60.9, 1.8]   # south, west, north, east
//	    time_zone: Europe/London
type Region struct {
	Name     string `yaml:"name"`
	Area     Area   `yaml:",inline"`
	TimeZone string `yaml:"time_zone"`
	Language string `yaml:"language,omitempty"` // BCP 47 tag, e.g. "en" or "pt-BR"
}

// Area is either a bounding box or a circle.
type Area struct {
	// Box is [south, west, north, east] in degrees; west > east crosses the 180th
	// meridian.
	Box []float64 `yaml:"box,omitempty"`
	// Center is [lat, lon] in degrees, with RadiusKM the circle's radius.
	Center   []float64 `yaml:"center,omitempty"`
	RadiusKM float64   `yaml:"radius_km,omitempty"`
}

// earthRadiusKM is the mean Earth radius (IUGG).
const earthRadiusKM = 6371.0088

// maxRadiusKM is half the Earth's circumference: a larger circle means nothing more.
const maxRadiusKM = math.Pi * earthRadiusKM

var (
	regionNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	languageRe   = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
)

// ValidateRegions checks a tenant's regions: names, areas and time zones.
func ValidateRegions(regions []Region) error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range regions {
		where := fmt.Sprintf("regions[%d] (%s)", i, r.Name)
		if !regionNameRe.MatchString(r.Name) {
			errs = append(errs, fmt.Errorf("regions[%d]: name %q must be 1-64 of a-z, 0-9, _ and -", i, r.Name))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s: name is used twice", where))
		}
		seen[r.Name] = true
		if err := r.Area.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if err := validateTimeZone(r.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if r.Language != "" && !languageRe.MatchString(r.Language) {
			errs = append(errs, fmt.Errorf("%s: language %q is not a language tag like en or pt-BR", where, r.Language))
		}
	}
	return errors.Join(errs...)
}

func (a Area) validate() error {
	hasBox, hasCircle := a.Box != nil, a.Center != nil || a.RadiusKM != 0
	switch {
	case hasBox && hasCircle:
		return errors.New("give either box or center and radius_km, not both")
	case hasBox:
		if len(a.Box) != 4 {
			return fmt.Errorf("box has %d numbers, needs 4: [south, west, north, east]", len(a.Box))
		}
		south, west, north, east := a.Box[0], a.Box[1], a.Box[2], a.Box[3]
		if err := checkLatLon("box south/west", south, west); err != nil {
			return err
		}
		if err := checkLatLon("box north/east", north, east); err != nil {
			return err
		}
		if south > north {
			return fmt.Errorf("box south %g is north of its north %g", south, north)
		}
		return nil
	case hasCircle:
		if len(a.Center) != 2 {
			return fmt.Errorf("center has %d numbers, needs 2: [lat, lon]", len(a.Center))
		}
		if err := checkLatLon("center", a.Center[0], a.Center[1]); err != nil {
			return err
		}
		if !(a.RadiusKM > 0 && a.RadiusKM <= maxRadiusKM) {
			return fmt.Errorf("radius_km %g must be above 0 and at most %.0f", a.RadiusKM, maxRadiusKM)
		}
		return nil
	}
	return errors.New("needs an area: box [south, west, north, east] or center [lat, lon] with radius_km")
}

func checkLatLon(what string, lat, lon float64) error {
	if !(lat >= -90 && lat <= 90) {
		return fmt.Errorf("%s latitude %g is outside -90..90", what, lat)
	}
	if !(lon >= -180 && lon <= 180) {
		return fmt.Errorf("%s longitude %g is outside -180..180", what, lon)
	}
	return nil
}

func validateTimeZone(name string) error {
	switch name {
	case "":
		return errors.New("needs a time_zone, e.g. Europe/London")
	case "Local":
		// The machine's zone says nothing about where the customer is.
		return errors.New(`time_zone "Local" depends on the server; name the zone, e.g. Europe/London`)
	}
	if _, err := loadLocation(name); err != nil {
		return fmt.Errorf("time_zone %q is not a known IANA time zone", name)
	}
	return nil
}

// Contains reports whether p lies in the area (on the edge counts). The point's
// accuracy is not used: a customer near a border is placed by their reported centre.
func (a Area) Contains(p Point) bool {
	switch {
	case len(a.Box) == 4:
		south, west, north, east := a.Box[0], a.Box[1], a.Box[2], a.Box[3]
		if p.Lat < south || p.Lat > north {
			return false
		}
		if west <= east {
			return p.Lon >= west && p.Lon <= east
		}
		return p.Lon >= west || p.Lon <= east // crosses the 180th meridian
	case len(a.Center) == 2:
		return DistanceKM(Point{Lat: a.Center[0], Lon: a.Center[1]}, p) <= a.RadiusKM
	}
	return false
}

// DistanceKM is the great-circle (haversine) distance between two points.
func DistanceKM(a, b Point) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// RegionOf finds the first region, in config order, that contains p; list specific
// regions (a city) before general ones (a country).
func RegionOf(regions []Region, p Point) (*Region, bool) {
	for i := range regions {
		if regions[i].Area.Contains(p) {
			return &regions[i], true
		}
	}
	return nil, false
}

// LocalTime is now in the region's time zone.
func LocalTime(r Region, now time.Time) (time.Time, error) {
	if err := validateTimeZone(r.TimeZone); err != nil {
		return time.Time{}, fmt.Errorf("region %s: %w", r.Name, err)
	}
	loc, err := loadLocation(r.TimeZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("region %s: %w", r.Name, err)
	}
	return now.In(loc), nil
}

// locations caches loaded zones: time.LoadLocation reads and parses zone data on
// every call.
var locations sync.Map // string → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}
