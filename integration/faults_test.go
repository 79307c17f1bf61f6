package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// databaseDown is how long PostgreSQL stays away in TestDatabaseOutage.
const databaseDown = 10 * time.Second

// TestDatabaseOutage: PostgreSQL stops for 10 s in the middle of a conversation. The
// service stays alive, refuses the homeserver's transactions meanwhile (so that the
// homeserver keeps them and tries again), and afterwards relays everything both ways,
// each message once and in order.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx := context.Background()
	cluster, err := pgcluster.Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	uri, err := cluster.CreateDatabase(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	tm := newTeam(t, "postgres:"+uri)
	d := tm.d
	acme := businessUser(d)
	customer, room, conv := tm.assignedConversation(t, "from-customer 000")

	if err = cluster.Down(ctx); err != nil {
		t.Fatal(err)
	}
	sendNumbered(t, customer, room, "from-customer", 1, 6)
	sendNumbered(t, tm.carol, conv.DeskRoom, "from-agent", 0, 5)
	deadline := time.Now().Add(databaseDown)
	for time.Now().Before(deadline) {
		if code := httpStatus(t, "http://"+d.Config.Appservice.Listen+"/_matrix/mau/live"); code != http.StatusOK {
			t.Fatalf("the service is not live while its database is down: %d", code)
		}
		time.Sleep(time.Second)
	}
	if err = cluster.Up(ctx); err != nil {
		t.Fatal(err)
	}
	sendNumbered(t, customer, room, "from-customer", 6, 10)
	sendNumbered(t, tm.carol, conv.DeskRoom, "from-agent", 5, 8)
	waitRelayed(t, tm.carol, conv.DeskRoom, conv.Ghost, "from-customer", 10)
	waitRelayed(t, customer, room, acme, "from-agent", 8)
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
