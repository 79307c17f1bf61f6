package routing

import (
	"testing"
	"time"
)

func TestEstimateWait(t *testing.T) {
	cases := []struct {
		position, ready int
		handle          time.Duration
		want            time.Duration
		ok              bool
	}{
		{1, 1, 5 * time.Minute, 5 * time.Minute, true},
		{6, 3, 5 * time.Minute, 10 * time.Minute, true},
		{1, 4, 5 * time.Minute, 2 * time.Minute, true}, // 75 s rounds up
		{3, 0, 5 * time.Minute, 0, false},
		{0, 2, 5 * time.Minute, 0, false},
		{1, 2, 0, 0, false},
	}
	for _, c := range cases {
		got, ok := EstimateWait(c.position, c.ready, c.handle)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: got %s %v", c, got, ok)
		}
	}
}
