package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/internal/fakehs"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// TestStaffAddedOnTwoReplicas: two service replicas on one PostgreSQL database. A
// staff member added through replica A's admin API gets a control room; once A has
// stopped, a customer arriving through replica B is offered to her: B learned of her
// from the database, without a restart. The offer reaches her control room once.
func TestStaffAddedOnTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster, _, err := pgcluster.Shared(ctx)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	dbURI, err := cluster.CreateDatabase(ctx, fmt.Sprintf("cc_staffreplicas_%d_%d", os.Getpid(), dbCounter.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	listens := [2]string{replicaListen(t), replicaListen(t)}
	fake, err := fakehs.Start(fakehs.Options{ASToken: replicaASToken, Domain: replicaDomain, SenderLocalpart: replicaSender,
		AppserviceURL: "http://" + listens[0], HSToken: replicaHSToken, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)

	adminKey := contextapi.NewKey()
	var replicas [2]*bridge.Bridge
	for i := range replicas {
		cfg := replicaConfig(t, listens[i], fake.URL, dbURI)
		tenant := &cfg.Tenants[0]
		// One agent who never gets ready, offers instead of direct assignment.
		tenant.Staff = tenant.Staff[:1]
		var wf routing.Workflow
		if err := yaml.Unmarshal([]byte("steps: [{queue: everyone}]\n"), &wf); err != nil {
			t.Fatal(err)
		}
		tenant.Workflow = &wf
		tenant.AdminAPIKeys = []string{contextapi.KeyHashConfig(adminKey)}
		log := testLog(t).With().Str("replica", []string{"A", "B"}[i]).Logger()
		svc := bridge.New(cfg, log)
		if err := svc.Start(log.WithContext(ctx)); err != nil {
			t.Fatalf("starting replica %d: %v", i, err)
		}
		t.Cleanup(svc.Stop)
		replicas[i] = svc
	}
	db := replicas[1].DB

	erin := id.UserID("@erin:" + replicaDomain)
	base := "http://" + replicas[0].Addr() + adminapi.PathPrefix
	status, answer := callAdmin(t, base, adminKey, http.MethodPost, "staff",
		map[string]any{"user_id": erin.String(), "name": "Erin", "role": "agent", "capacity": 2})
	if status != http.StatusCreated {
		t.Fatalf("adding Erin through replica A: %d %v", status, answer)
	}
	var control id.RoomID
	eventually(t, 30*time.Second, "Erin's control room", func() (bool, error) {
		member, err := db.Staff.Get(ctx, "acme", erin)
		if member != nil {
			control = member.ControlRoomID
		}
		return control != "", err
	})
	replicas[0].Stop()
	if err = db.Staff.SetStatus(ctx, "acme", erin, routing.Ready, time.Now()); err != nil {
		t.Fatal(err)
	}

	// A customer through replica B: offered to Erin.
	fake.SetMembership(replicaRoom(0), replicaCustomer(0), "join")
	fake.SetMembership(replicaRoom(0), replicaBusiness, "invite")
	if err = sendReplicaTxns(ctx, "http://"+replicas[1].Addr(), "staff-", [][]byte{replicaInvite(0)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the customer offered to Erin by replica B", func() (bool, error) {
		var offered string
		err := db.QueryRow(ctx, `SELECT COALESCE(offered_to, '') FROM conversation WHERE room_id = $1`, replicaRoom(0)).Scan(&offered)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return offered == erin.String(), err
	})
	// The offer reaches her control room at the homeserver, once.
	const offerRows = `SELECT COUNT(*), COUNT(event_id) FROM outbox
		WHERE room_id = $1 AND dedupe_key LIKE 'cc:offer:%' AND dedupe_key NOT LIKE '%|%'`
	var queued, sent int
	eventually(t, 30*time.Second, "the offer sent to Erin's control room", func() (bool, error) {
		err := db.QueryRow(ctx, offerRows, control).Scan(&queued, &sent)
		return sent >= 1 && fake.SendsIn(control.String()) >= 1, err
	})
	time.Sleep(2 * time.Second)
	if err = db.QueryRow(ctx, offerRows, control).Scan(&queued, &sent); err != nil || queued != 1 || sent != 1 {
		t.Fatalf("offers to Erin: %d queued, %d sent (%v); want one", queued, sent, err)
	}
}
