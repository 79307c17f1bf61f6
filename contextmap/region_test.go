package contextmap

import (
	"math"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const regionsYAML = `
- name: london
  center: [51.507, -0.128]
  radius_km: 40
  time_zone: Europe/London
  language: en-GB
- name: uk
  box: [49.8, -8.7, 60.9, 1.8]
  time_zone: Europe/London
  language: en
- name: fiji
  box: [-21, 176, -12, -178]
  time_zone: Pacific/Fiji
- name: sao-paulo
  center: [-23.55, -46.63]
  radius_km: 60
  time_zone: America/Sao_Paulo
  language: pt-BR
`

func loadRegions(t *testing.T) []Region {
	t.Helper()
	var regions []Region
	if err := yaml.Unmarshal([]byte(regionsYAML), &regions); err != nil {
		t.Fatal(err)
	}
	if err := ValidateRegions(regions); err != nil {
		t.Fatal(err)
	}
	return regions
}

func TestRegionsFromYAML(t *testing.T) {
	regions := loadRegions(t)
	if len(regions) != 4 {
		t.Fatalf("%d regions", len(regions))
	}
	london := regions[0]
	if london.Area.RadiusKM != 40 || len(london.Area.Center) != 2 || london.Area.Box != nil || london.Language != "en-GB" {
		t.Errorf("london = %+v", london)
	}
	if uk := regions[1]; len(uk.Area.Box) != 4 || uk.Area.Box[3] != 1.8 || uk.TimeZone != "Europe/London" {
		t.Errorf("uk = %+v", uk)
	}
}

func TestRegionOf(t *testing.T) {
	regions := loadRegions(t)
	tests := []struct {
		name string
		p    Point
		want string
	}{
		{"central London: first match wins over uk", Point{Lat: 51.5, Lon: -0.12}, "london"},
		{"Manchester: only the uk box", Point{Lat: 53.48, Lon: -2.24}, "uk"},
		{"Paris: nowhere", Point{Lat: 48.86, Lon: 2.35}, ""},
		{"box corner counts", Point{Lat: 49.8, Lon: -8.7}, "uk"},
		{"Suva, east of 180", Point{Lat: -18.14, Lon: 178.44}, "fiji"},
		{"Lau islands, west of -178", Point{Lat: -18, Lon: -178.5}, "fiji"},
		{"wrong side of the wrapped box", Point{Lat: -18, Lon: -170}, ""},
		{"São Paulo", Point{Lat: -23.6, Lon: -46.7}, "sao-paulo"},
		{"Campinas, ~90 km out", Point{Lat: -22.9, Lon: -47.06}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := RegionOf(regions, tt.p)
			got := ""
			if ok {
				got = r.Name
			}
			if got != tt.want {
				t.Errorf("RegionOf = %q, want %q", got, tt.want)
			}
		})
	}
	if _, ok := RegionOf(nil, Point{}); ok {
		t.Error("no regions, yet a match")
	}
}

func TestRegionOfReturnsConfigEntry(t *testing.T) {
	regions := loadRegions(t)
	r, _ := RegionOf(regions, Point{Lat: 51.5, Lon: -0.12})
	if r != &regions[0] {
		t.Error("RegionOf does not point into the slice")
	}
}

func TestDistanceKM(t *testing.T) {
	tests := []struct {
		a, b Point
		km   float64
	}{
		{Point{Lat: 51.5074, Lon: -0.1278}, Point{Lat: 48.8566, Lon: 2.3522}, 343.5}, // London–Paris
		{Point{Lat: 0, Lon: 179.5}, Point{Lat: 0, Lon: -179.5}, 111.2},               // across 180
		{Point{Lat: 10, Lon: 10}, Point{Lat: 10, Lon: 10}, 0},
		{Point{Lat: 90}, Point{Lat: -90}, math.Pi * earthRadiusKM},
	}
	for _, tt := range tests {
		if got := DistanceKM(tt.a, tt.b); math.Abs(got-tt.km) > 1 {
			t.Errorf("DistanceKM(%v, %v) = %.1f, want %.1f", tt.a, tt.b, got, tt.km)
		}
	}
}

func TestValidateRegionsRejects(t *testing.T) {
	box := Area{Box: []float64{0, 0, 1, 1}}
	tests := []struct {
		name    string
		regions []Region
		want    string
	}{
		{"no name", []Region{{Area: box, TimeZone: "UTC"}}, "name"},
		{"bad name", []Region{{Name: "North UK", Area: box, TimeZone: "UTC"}}, "must be 1-64"},
		{"twice", []Region{{Name: "a", Area: box, TimeZone: "UTC"}, {Name: "a", Area: box, TimeZone: "UTC"}}, "used twice"},
		{"no area", []Region{{Name: "a", TimeZone: "UTC"}}, "needs an area"},
		{"both", []Region{{Name: "a", Area: Area{Box: []float64{0, 0, 1, 1}, Center: []float64{0, 0}, RadiusKM: 1}, TimeZone: "UTC"}}, "not both"},
		{"box and radius", []Region{{Name: "a", Area: Area{Box: []float64{0, 0, 1, 1}, RadiusKM: 1}, TimeZone: "UTC"}}, "not both"},
		{"short box", []Region{{Name: "a", Area: Area{Box: []float64{0, 0, 1}}, TimeZone: "UTC"}}, "needs 4"},
		{"empty box", []Region{{Name: "a", Area: Area{Box: []float64{}}, TimeZone: "UTC"}}, "needs 4"},
		{"upside-down box", []Region{{Name: "a", Area: Area{Box: []float64{10, 0, 5, 1}}, TimeZone: "UTC"}}, "north of its north"},
		{"box latitude", []Region{{Name: "a", Area: Area{Box: []float64{-95, 0, 5, 1}}, TimeZone: "UTC"}}, "latitude -95"},
		{"box longitude", []Region{{Name: "a", Area: Area{Box: []float64{0, 0, 5, 190}}, TimeZone: "UTC"}}, "longitude 190"},
		{"NaN box", []Region{{Name: "a", Area: Area{Box: []float64{math.NaN(), 0, 5, 1}}, TimeZone: "UTC"}}, "latitude NaN"},
		{"center without radius", []Region{{Name: "a", Area: Area{Center: []float64{0, 0}}, TimeZone: "UTC"}}, "radius_km 0"},
		{"radius without center", []Region{{Name: "a", Area: Area{RadiusKM: 5}, TimeZone: "UTC"}}, "needs 2"},
		{"negative radius", []Region{{Name: "a", Area: Area{Center: []float64{0, 0}, RadiusKM: -1}, TimeZone: "UTC"}}, "radius_km -1"},
		{"huge radius", []Region{{Name: "a", Area: Area{Center: []float64{0, 0}, RadiusKM: 30000}, TimeZone: "UTC"}}, "at most"},
		{"center latitude", []Region{{Name: "a", Area: Area{Center: []float64{91, 0}, RadiusKM: 1}, TimeZone: "UTC"}}, "center latitude"},
		{"no time zone", []Region{{Name: "a", Area: box}}, "needs a time_zone"},
		{"unknown zone", []Region{{Name: "a", Area: box, TimeZone: "Mars/Olympus_Mons"}}, "not a known IANA"},
		{"local zone", []Region{{Name: "a", Area: box, TimeZone: "Local"}}, "depends on the server"},
		{"bad language", []Region{{Name: "a", Area: box, TimeZone: "UTC", Language: "english!"}}, "language"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateRegions(tt.regions)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if err := ValidateRegions(nil); err != nil {
		t.Errorf("no regions: %v", err)
	}
}

func TestLocalTime(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		zone string
		want string
	}{
		{"Europe/London", "13:00 BST"},
		{"America/Sao_Paulo", "09:00 -03"},
		{"Asia/Kolkata", "17:30 IST"},
		{"UTC", "12:00 UTC"},
	}
	for _, tt := range tests {
		got, err := LocalTime(Region{Name: "r", TimeZone: tt.zone}, now)
		if err != nil {
			t.Fatal(err)
		}
		if s := got.Format("15:04 MST"); s != tt.want {
			t.Errorf("%s: %s, want %s", tt.zone, s, tt.want)
		}
		if !got.Equal(now) {
			t.Errorf("%s: instant changed", tt.zone)
		}
	}
	if _, err := LocalTime(Region{Name: "r", TimeZone: "Nowhere/City"}, now); err == nil || !strings.Contains(err.Error(), "region r") {
		t.Errorf("unknown zone: err = %v", err)
	}
	if _, err := LocalTime(Region{Name: "r"}, now); err == nil {
		t.Error("no zone: no error")
	}
}
