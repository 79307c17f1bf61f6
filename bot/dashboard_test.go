package bot

import (
	"strings"
	"testing"
	"time"
)

func TestDashboardLink(t *testing.T) {
	link := "https://cc.example.com/_contactcenter/dashboard/#link=secret"
	for _, c := range []struct {
		lifetime time.Duration
		pinned   bool
		want     string
	}{
		{10 * time.Minute, true, "once, for 10 minutes"},
		{time.Minute, false, "once, for 1 minute"},
		{2 * time.Hour, false, "once, for 2 hours"},
		{90 * time.Minute, false, "once, for 90 minutes"},
		{30 * time.Second, false, "once, for 30 seconds"},
	} {
		got := DashboardLink(link, c.lifetime, c.pinned)
		if !strings.Contains(got, link) || !strings.Contains(got, c.want) || strings.Contains(got, "pinned") != c.pinned {
			t.Errorf("%s %v: %q", c.lifetime, c.pinned, got)
		}
	}
	if !strings.Contains(ControlHelp, "**!dashboard**: a link to the live dashboard") || strings.Contains(SideHelp, "!dashboard") {
		t.Errorf("!dashboard is a control-room command:\n%s", ControlHelp)
	}
}
