package integration

import (
	"context"
	"fmt"
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
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")
	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	send := func(prefix string, from, to int, sendOne func(string) error) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := sendOne(fmt.Sprintf("%s %03d", prefix, i)); err != nil {
				t.Fatalf("%s %d: %v", prefix, i, err)
			}
		}
	}
	fromCustomer := func(body string) error { _, err := customer.SendText(ctx, room, body); return err }
	send("from-customer", 0, 1, fromCustomer)
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	conv := openConversation(t, d, room)
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	fromAgent := func(body string) error { _, err := tm.carol.SendText(ctx, conv.DeskRoom, body); return err }
	waitRelayed(t, tm.carol, conv.DeskRoom, conv.Ghost, "from-customer", 1)

	if err = cluster.Down(ctx); err != nil {
		t.Fatal(err)
	}
	send("from-customer", 1, 6, fromCustomer)
	send("from-agent", 0, 5, fromAgent)
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
	send("from-customer", 6, 10, fromCustomer)
	send("from-agent", 5, 8, fromAgent)
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
