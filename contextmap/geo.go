// Package contextmap turns raw customer context into routing attributes: a shared
// location into a tenant region (time zone, language), pages viewed into topics. It
// knows nothing of Matrix or HTTP; the consent gate decides what reaches it.
package contextmap

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Point is a position on WGS 84.
type Point struct {
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	AccuracyM float64 `json:"accuracy_m,omitempty"` // uncertainty in metres; 0 when not given
}

// maxGeoURILength bounds what is parsed; real geo URIs are a few dozen bytes.
const maxGeoURILength = 512

// ParseGeoURI reads an RFC 5870 geo URI as sent in m.location's geo_uri:
// "geo:51.5,-0.12;u=35". The scheme is case-insensitive; an altitude is read and
// dropped; crs must be wgs84 if given; u (uncertainty, metres) is kept; other
// parameters are ignored, as is a "?" query some clients append.
func ParseGeoURI(uri string) (Point, error) {
	s := strings.TrimSpace(uri)
	if len(s) > maxGeoURILength {
		return Point{}, fmt.Errorf("geo URI is %d bytes, at most %d", len(s), maxGeoURILength)
	}
	if len(s) < 4 || !strings.EqualFold(s[:4], "geo:") {
		return Point{}, fmt.Errorf("geo URI %q must start with geo:", short(s))
	}
	s, _, _ = strings.Cut(s[4:], "?")
	coords, params, _ := strings.Cut(s, ";")
	parts := strings.Split(coords, ",")
	if len(parts) != 2 && len(parts) != 3 {
		return Point{}, fmt.Errorf("geo URI %q needs latitude,longitude[,altitude]", short(uri))
	}
	var nums [3]float64
	for i, part := range parts {
		n, err := parseGeoNumber(part)
		if err != nil {
			return Point{}, fmt.Errorf("geo URI %q: coordinate %d: %w", short(uri), i+1, err)
		}
		nums[i] = n
	}
	p := Point{Lat: nums[0], Lon: nums[1]}
	if p.Lat < -90 || p.Lat > 90 {
		return Point{}, fmt.Errorf("geo URI %q: latitude %g is outside -90..90", short(uri), p.Lat)
	}
	if p.Lon < -180 || p.Lon > 180 {
		return Point{}, fmt.Errorf("geo URI %q: longitude %g is outside -180..180", short(uri), p.Lon)
	}
	if err := applyGeoParams(&p, params); err != nil {
		return Point{}, fmt.Errorf("geo URI %q: %w", short(uri), err)
	}
	return p, nil
}

// applyGeoParams reads crs and u; each may appear once.
func applyGeoParams(p *Point, params string) error {
	if params == "" {
		return nil
	}
	seen := map[string]bool{}
	for _, param := range strings.Split(params, ";") {
		name, value, _ := strings.Cut(param, "=")
		name = strings.ToLower(name)
		if name == "" {
			return errors.New("empty parameter")
		}
		if name != "crs" && name != "u" {
			continue
		}
		if seen[name] {
			return fmt.Errorf("parameter %s given twice", name)
		}
		seen[name] = true
		switch name {
		case "crs":
			if !strings.EqualFold(value, "wgs84") {
				return fmt.Errorf("coordinate system %q is not supported, only wgs84", short(value))
			}
		case "u":
			u, err := parseGeoNumber(value)
			if err != nil {
				return fmt.Errorf("uncertainty: %w", err)
			}
			if u < 0 {
				return fmt.Errorf("uncertainty %g must not be negative", u)
			}
			p.AccuracyM = u
		}
	}
	return nil
}

// parseGeoNumber reads RFC 5870's num: ["-"] 1*DIGIT ["." 1*DIGIT]; no exponents,
// no NaN or Inf, which strconv alone would accept.
func parseGeoNumber(s string) (float64, error) {
	digits := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(digits, ".")
	if !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return 0, fmt.Errorf("%q is not a decimal number", short(s))
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%q is not a usable number", short(s))
	}
	return n, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// short keeps error messages readable when input is long.
func short(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
