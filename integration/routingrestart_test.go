package integration

import (
	"context"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// TestRoutingResumesAfterRestart: routing keeps its state in the database, so a
// restart loses nothing. An offer open across a restart can still be accepted; a
// conversation queued while nobody was ready is offered once someone is, after the
// restart.
func TestRoutingResumesAfterRestart(t *testing.T) {
	tm := newTeam(t, "postgres", func(cfg *config.Config) {
		var wf routing.Workflow
		if err := yaml.Unmarshal([]byte("steps: [{queue: everyone}]\noffer_timeout: 2m\n"), &wf); err != nil {
			t.Fatal(err)
		}
		cfg.Tenants[0].Workflow = &wf
	})
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")

	first := newCustomer(t, d, false)
	firstRoom, err := first.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	// Carol goes away: the next customer waits in the queue.
	tm.say(t, tm.carol, acme, "!away", "You are now **away**")
	second := newCustomer(t, d, false)
	secondRoom, err := second.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waiting := openConversation(t, d, secondRoom)
	if waiting.Status != database.StatusNew {
		t.Fatalf("the second conversation is %s, want waiting", waiting.Status)
	}

	d.StopService()
	if err = d.StartService(ctx); err != nil {
		t.Fatal(err)
	}

	// The offer made before the restart is still hers to accept.
	tm.say(t, tm.carol, acme, "accept", "is yours")
	if conv := openConversation(t, d, firstRoom); conv.Status != database.StatusAssigned || conv.Agent != tm.carol.UserID {
		t.Fatalf("after accepting across the restart: %+v", conv)
	}
	// Dave becomes ready after the restart: the queued conversation is offered to him.
	tm.say(t, tm.dave, acme, "!ready", "You are now **ready**")
	eventually(t, welcomeTimeout, "the queued conversation offered to Dave", func() (bool, error) {
		conv, err := d.Service.DB.Conversation.Get(ctx, waiting.ID)
		return err == nil && conv.Status == database.StatusOffered && conv.OfferedTo == tm.dave.UserID, err
	})
	tm.say(t, tm.dave, acme, "accept", "is yours")
}
