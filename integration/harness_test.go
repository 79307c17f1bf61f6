// Package integration tests the service end to end: two real federating Dendrite
// homeservers, real PostgreSQL and SQLite, and real clients written by others
// (mautrix's client and crypto; matrix-js-sdk with its Rust crypto).
package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }

var databases = []string{"sqlite", "postgres"}

var dbCounter atomic.Int64

// testLog writes the service's log into the test's output (shown on failure or -v).
func testLog(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// newDeployment starts homeservers and the service on the given database: "sqlite",
// "postgres" (a fresh database on the shared cluster) or "postgres:<URI>".
func newDeployment(t *testing.T, db string, configure func(*config.Config)) *deploy.Deployment {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx := context.Background()
	opts := deploy.Options{Dir: t.TempDir(), Database: db, Configure: configure, Log: testLog(t)}
	if uri, ok := strings.CutPrefix(db, "postgres:"); ok {
		// A database of the test's own cluster (one it may stop and start).
		opts.Database, opts.PostgresURI = "postgres", uri
	} else if db == "postgres" {
		cluster, _, err := pgcluster.Shared(ctx)
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		opts.PostgresURI, err = cluster.CreateDatabase(ctx, fmt.Sprintf("cc_%d_%d", os.Getpid(), dbCounter.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
	}
	d, err := deploy.Start(ctx, opts)
	if err != nil {
		t.Fatalf("deployment: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// newHomeserversOnly starts the homeservers and writes the service's config on SQLite,
// without starting the service: for tests that prepare accounts or the config first.
func newHomeserversOnly(t *testing.T, log zerolog.Logger) *deploy.Deployment {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	d, err := deploy.Start(context.Background(), deploy.Options{Dir: t.TempDir(), Database: "sqlite", NoService: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// businessUser is the first tenant's business identity.
func businessUser(d *deploy.Deployment) id.UserID {
	return d.Config.BusinessUserID(&d.Config.Tenants[0])
}

var userCounter atomic.Int64

// newCustomer registers a customer on the customer-side homeserver and logs in with
// mautrix's client.
func newCustomer(t *testing.T, d *deploy.Deployment, encryption bool) *mxclient.Client {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("customer%d", userCounter.Add(1))
	acct, err := d.Bed.Customer.Register(ctx, name, name+"-password", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mxclient.Login(ctx, mxclient.Options{
		HomeserverURL: d.Bed.Customer.URL, UserID: id.UserID(acct.UserID), Password: name + "-password",
		Encryption: encryption, Dir: t.TempDir(), Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// isWelcome matches the tenant's welcome sent by the business identity (its body is
// the Markdown source, as Element's bodies are).
func isWelcome(d *deploy.Deployment) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == businessUser(d) && evt.Type == event.EventMessage && msg != nil &&
			strings.Contains(msg.Body, "Welcome to") && strings.Contains(msg.Body, "ACME Support")
	}
}

// countMatching counts events in the client's view of a room that match.
func countMatching(c *mxclient.Client, roomID id.RoomID, match func(*event.Event) bool) int {
	n := 0
	for _, evt := range c.Events(roomID) {
		if match(evt) {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inboxState reads how the service handled an event it received.
func inboxState(t *testing.T, d *deploy.Deployment, eventID id.EventID) (handled bool, lastError string) {
	t.Helper()
	var handledAt *int64
	var lastErr *string
	err := d.Service.DB.QueryRow(context.Background(),
		`SELECT handled_at, last_error FROM inbox WHERE event_key = $1`, eventID.String()).Scan(&handledAt, &lastErr)
	if err != nil {
		return false, ""
	}
	if lastErr != nil {
		lastError = *lastErr
	}
	return handledAt != nil, lastError
}

// conversations counts the conversations recorded for a customer room.
func conversations(t *testing.T, d *deploy.Deployment, roomID id.RoomID) int {
	t.Helper()
	n, err := d.Service.DB.Conversation.CountInRoom(context.Background(), roomID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// jsCustomer is a customer on matrix-js-sdk (Element's SDK, Rust crypto) on the
// customer homeserver, with an encrypted DM open with business.
type jsCustomer struct {
	js     *jsclient.Client
	userID id.UserID
	room   id.RoomID
}

func newJSCustomer(t *testing.T, d *deploy.Deployment, business id.UserID) *jsCustomer {
	t.Helper()
	ctx := context.Background()
	if err := jsclient.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	js, err := jsclient.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.Close() })
	name := fmt.Sprintf("jsuser%d", userCounter.Add(1))
	acct, err := d.Bed.Customer.Register(ctx, name, name+"-password", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err = js.Login(ctx, d.Bed.Customer.URL, acct.UserID, name+"-password"); err != nil {
		t.Fatal(err)
	}
	room, err := js.CreateDM(ctx, business.String(), true)
	if err != nil {
		t.Fatal(err)
	}
	return &jsCustomer{js: js, userID: id.UserID(acct.UserID), room: id.RoomID(room)}
}
