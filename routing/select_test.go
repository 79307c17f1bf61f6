package routing

import "testing"

func TestFirstReady(t *testing.T) {
	cases := []struct {
		name       string
		candidates []Candidate
		want       string
	}{
		{"nobody", nil, ""},
		{"only away", []Candidate{{UserID: "a", Status: Away, Capacity: 3}}, ""},
		{"first ready in order", []Candidate{
			{UserID: "a", Status: Offline, Capacity: 3},
			{UserID: "b", Status: Ready, Capacity: 3},
			{UserID: "c", Status: Ready, Capacity: 3},
		}, "b"},
		{"fewest conversations", []Candidate{
			{UserID: "b", Status: Ready, Load: 2, Capacity: 3},
			{UserID: "c", Status: Ready, Load: 1, Capacity: 3},
		}, "c"},
		{"full, offered and excluded agents are skipped", []Candidate{
			{UserID: "a", Status: Ready, Load: 3, Capacity: 3},
			{UserID: "b", Status: Ready, Offered: true, Capacity: 3},
			{UserID: "c", Status: Ready, Excluded: true, Capacity: 3},
			{UserID: "d", Status: Ready, Load: 2, Capacity: 3},
		}, "d"},
	}
	for _, c := range cases {
		got, ok := FirstReady{}.Select(c.candidates)
		if ok != (c.want != "") || got.UserID != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got.UserID, ok, c.want)
		}
	}
}
