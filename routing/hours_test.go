package routing

import (
	"testing"
	"time"
)

func TestHours(t *testing.T) {
	h := &Hours{TimeZone: "Europe/Lisbon", Days: map[string]string{"mon": "09:00-18:00", "sat": "10:00-13:30"}}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	lisbon, _ := time.LoadLocation("Europe/Lisbon")
	for _, tc := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 11, 23, 9, 0, 0, 0, lisbon), true},   // Monday, opening minute
		{time.Date(2026, 11, 23, 17, 59, 0, 0, lisbon), true}, // last minute
		{time.Date(2026, 11, 23, 18, 0, 0, 0, lisbon), false}, // closed at 18:00
		{time.Date(2026, 11, 23, 8, 59, 0, 0, lisbon), false}, // not yet
		{time.Date(2026, 11, 24, 12, 0, 0, 0, lisbon), false}, // Tuesday: not listed
		{time.Date(2026, 11, 28, 13, 29, 0, 0, lisbon), true}, // Saturday
	} {
		if got := h.Open(tc.at); got != tc.open {
			t.Errorf("open at %s: %v, want %v", tc.at, got, tc.open)
		}
	}
	// The same instant in another zone is judged in the tenant's zone.
	if !h.Open(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)) || h.Open(time.Date(2026, 11, 23, 18, 30, 0, 0, time.UTC)) {
		t.Error("hours not judged in the tenant's time zone")
	}
	if (&Hours{}).Open(time.Now()) != true || (*Hours)(nil).Open(time.Now()) != true {
		t.Error("no hours must mean always open")
	}
	for _, bad := range []*Hours{
		{TimeZone: "Mars/Olympus", Days: map[string]string{"mon": "09:00-18:00"}},
		{TimeZone: "UTC", Days: map[string]string{"monday": "09:00-18:00"}},
		{TimeZone: "UTC", Days: map[string]string{"mon": "18:00-09:00"}},
		{TimeZone: "UTC", Days: map[string]string{"mon": "9am"}},
	} {
		if bad.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
