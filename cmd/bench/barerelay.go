package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/testbed"
)

// bareRelayLocalpart is the baseline bot's localpart; its ghost's starts with it too.
const bareRelayLocalpart = "barerelay"

// bareRelay is the relay's baseline on the test bed: the smallest mautrix appservice
// that does what the service does with a customer's message (a bot the customer
// writes to in a DM; its handler sends a copy into a desk room as a ghost) and
// nothing else: no database, no inbox or outbox, no privacy filter, no side-room
// mirror. A transaction's events are handled one after the other (the Sync event
// processor), each copy sent before the next event.
type bareRelay struct {
	reg *appservice.Registration
	as  *appservice.AppService
	ep  *appservice.EventProcessor
	srv *http.Server
	ln  net.Listener

	bot, ghost id.UserID
	failed     atomic.Int64

	mu sync.Mutex
	// What customer writes in dm is copied into desk.
	dm, desk id.RoomID
	customer id.UserID
	// dir holds the registration.
	dir string
}

// newBareRelay listens on a free loopback port; the registration is written once the
// business server's name is known (writeRegistration), the handlers start with start.
func newBareRelay() (*bareRelay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	reg := appservice.CreateRegistration()
	reg.ID, reg.URL = "bench-barerelay", "http://"+ln.Addr().String()
	reg.AppToken, reg.ServerToken, reg.SenderLocalpart = rand.Text(), rand.Text(), bareRelayLocalpart
	reg.RateLimited = new(bool)
	dir, err := os.MkdirTemp("", "ccbench-barerelay-")
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	return &bareRelay{reg: reg, ln: ln, dir: dir}, nil
}

// writeRegistration writes the registration for the business server: the bot and its
// ghosts, exclusively.
func (r *bareRelay) writeRegistration(business *testbed.Server) (string, error) {
	r.reg.Namespaces = appservice.Namespaces{}
	r.reg.Namespaces.UserIDs.Register(regexp.MustCompile(fmt.Sprintf("^@%s.*:%s$", bareRelayLocalpart, regexp.QuoteMeta(business.ServerName))), true)
	// The bot is a ghost of its own: Dendrite refuses a federated invite to the
	// registration's sender, which has no account.
	r.bot = id.NewUserID(bareRelayLocalpart+"_bot", business.ServerName)
	r.ghost = id.NewUserID(bareRelayLocalpart+"_customer", business.ServerName)
	path := filepath.Join(r.dir, "registration.yaml")
	return path, r.reg.Save(path)
}

// start serves the appservice API for the business server at hsURL.
func (r *bareRelay) start(ctx context.Context, hsURL, serverName string, log zerolog.Logger) error {
	r.as = appservice.Create()
	r.as.Log = log
	r.as.Registration = r.reg
	r.as.HomeserverDomain = serverName
	if err := r.as.SetHomeserverURL(hsURL); err != nil {
		return err
	}
	r.srv = &http.Server{Handler: r.as.Router, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(r.ln) }()
	r.ep = appservice.NewEventProcessor(r.as)
	r.ep.ExecMode = appservice.Sync
	r.ep.On(event.EventMessage, r.onMessage)
	r.ep.Start(ctx)
	r.as.Ready = true
	return r.as.Intent(r.bot).EnsureRegistered(ctx)
}

// onMessage is the relay: the customer's message in the DM, copied into the desk room
// as the ghost.
func (r *bareRelay) onMessage(ctx context.Context, evt *event.Event) {
	r.mu.Lock()
	dm, desk, customer := r.dm, r.desk, r.customer
	r.mu.Unlock()
	if evt.RoomID != dm || evt.Sender != customer {
		return
	}
	msg := evt.Content.AsMessage()
	_, err := r.as.Intent(r.ghost).SendMessageEvent(ctx, desk, event.EventMessage, &event.MessageEventContent{MsgType: msg.MsgType, Body: msg.Body})
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Bare relay could not send its copy")
		r.failed.Add(1)
	}
}

// setUp makes the ghost's desk room with the agent in it and joins the bot to the
// customer's DM; from then on, the customer's messages there are relayed.
func (r *bareRelay) setUp(ctx context.Context, agent *mautrix.Client, customer id.UserID, dm id.RoomID) (id.RoomID, error) {
	ghost := r.as.Intent(r.ghost)
	if err := ghost.EnsureRegistered(ctx); err != nil {
		return "", err
	}
	resp, err := ghost.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "Bare relay desk", Invite: []id.UserID{agent.UserID}})
	if err != nil {
		return "", fmt.Errorf("bare relay desk room: %w", err)
	}
	if err = joinWhenInvited(ctx, agent, resp.RoomID); err != nil {
		return "", err
	}
	// The bot joins the DM it was invited to by its ID, over federation, as the
	// service does (retrying: right after an invite a homeserver may still refuse
	// the join). It does not wait for the invite to be pushed: Dendrite does not
	// push a federated invite to this second appservice.
	waitCtx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	var lastErr error
	err = pollUntil(waitCtx, 250*time.Millisecond, func() (bool, error) {
		_, lastErr = r.as.Intent(r.bot).JoinRoom(waitCtx, dm.String(), &mautrix.ReqJoinRoom{Via: []string{customer.Homeserver()}})
		return lastErr == nil, nil
	})
	if err != nil {
		return "", fmt.Errorf("the bare relay bot joining the DM: %w (last: %v)", err, lastErr)
	}
	r.mu.Lock()
	r.dm, r.desk, r.customer = dm, resp.RoomID, customer
	r.mu.Unlock()
	return resp.RoomID, nil
}

func (r *bareRelay) close() {
	if r.ep != nil {
		r.ep.Stop()
	}
	if r.srv != nil {
		_ = r.srv.Close()
	} else if r.ln != nil {
		_ = r.ln.Close()
	}
	_ = os.RemoveAll(r.dir)
}
