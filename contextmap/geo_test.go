package contextmap

import (
	"math"
	"strings"
	"testing"
)

func TestParseGeoURI(t *testing.T) {
	tests := []struct {
		uri  string
		want Point
	}{
		{"geo:51.5,-0.12;u=35", Point{Lat: 51.5, Lon: -0.12, AccuracyM: 35}},
		{"geo:51.5,-0.12", Point{Lat: 51.5, Lon: -0.12}},
		{"GEO:51.5,-0.12", Point{Lat: 51.5, Lon: -0.12}},
		{"  geo:51.5,-0.12  ", Point{Lat: 51.5, Lon: -0.12}},
		{"geo:51.5,-0.12,30", Point{Lat: 51.5, Lon: -0.12}},    // altitude dropped
		{"geo:51.5,-0.12,-12.5", Point{Lat: 51.5, Lon: -0.12}}, // below sea level
		{"geo:51.5,-0.12;crs=wgs84", Point{Lat: 51.5, Lon: -0.12}},
		{"geo:51.5,-0.12;CRS=WGS84;u=12.5", Point{Lat: 51.5, Lon: -0.12, AccuracyM: 12.5}},
		{"geo:51.5,-0.12;u=35;foo=bar", Point{Lat: 51.5, Lon: -0.12, AccuracyM: 35}},
		{"geo:51.5,-0.12;flag", Point{Lat: 51.5, Lon: -0.12}},
		{"geo:51.5,-0.12;u=0", Point{Lat: 51.5, Lon: -0.12}},
		{"geo:51.5,-0.12?z=14", Point{Lat: 51.5, Lon: -0.12}},
		{"geo:90,180", Point{Lat: 90, Lon: 180}},
		{"geo:-90,-180", Point{Lat: -90, Lon: -180}},
		{"geo:0,0", Point{}},
		{"geo:-0.000001,0", Point{Lat: -0.000001}},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			got, err := ParseGeoURI(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseGeoURIRejects(t *testing.T) {
	tests := []struct {
		uri, want string
	}{
		{"", "must start with geo:"},
		{"51.5,-0.12", "must start with geo:"},
		{"https://maps.example.com/?q=51.5,-0.12", "must start with geo:"},
		{"geo:", "needs latitude,longitude"},
		{"geo:51.5", "needs latitude,longitude"},
		{"geo:1,2,3,4", "needs latitude,longitude"},
		{"geo:91,0", "latitude 91 is outside"},
		{"geo:-90.5,0", "latitude -90.5 is outside"},
		{"geo:0,180.1", "longitude 180.1 is outside"},
		{"geo:0,-181", "longitude -181 is outside"},
		{"geo:NaN,0", "not a decimal number"},
		{"geo:Inf,0", "not a decimal number"},
		{"geo:1e1,0", "not a decimal number"},
		{"geo:+1,0", "not a decimal number"},
		{"geo:1.,0", "not a decimal number"},
		{"geo:.5,0", "not a decimal number"},
		{"geo: 1,0", "not a decimal number"},
		{"geo:0x1,0", "not a decimal number"},
		{"geo:1,", "coordinate 2"},
		{"geo:51.5,-0.12;crs=osgb36", "only wgs84"},
		{"geo:51.5,-0.12;u=-1", "must not be negative"},
		{"geo:51.5,-0.12;u=abc", "uncertainty"},
		{"geo:51.5,-0.12;u=", "uncertainty"},
		{"geo:51.5,-0.12;u=1;u=2", "given twice"},
		{"geo:51.5,-0.12;;u=1", "empty parameter"},
		{"geo:" + strings.Repeat("1", 600) + ",0", "at most 512"},
		{"geo:" + strings.Repeat("9", 400) + ",0", "usable number"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			got, err := ParseGeoURI(tt.uri)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %+v, err %v; want an error containing %q", got, err, tt.want)
			}
		})
	}
}

func FuzzParseGeoURI(f *testing.F) {
	for _, seed := range []string{"geo:51.5,-0.12;u=35", "geo:90,180", "geo:1,2,3;crs=wgs84;u=1", "geo:0,0?z=3", "GEO:-1.5,2", "geo:NaN,0", "geo:1,2;u=1;u=2", "geo:;"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, err := ParseGeoURI(uri)
		if err != nil {
			if p != (Point{}) {
				t.Fatalf("error with a point: %+v", p)
			}
			return
		}
		for _, v := range []float64{p.Lat, p.Lon, p.AccuracyM} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted %q as %+v", uri, p)
			}
		}
		if p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 || p.AccuracyM < 0 {
			t.Fatalf("accepted %q as %+v, out of range", uri, p)
		}
	})
}
