package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testbed"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// setupTimeout bounds each step of preparing the relay test bed (federation on a
// loaded machine can take seconds).
const setupTimeout = 60 * time.Second

// relayBed is a real deployment (two Dendrites, the service) with one conversation
// assigned to an agent, and a plain federated DM between the same customer and the
// same agent: the two paths a customer's message can take to the agent's client.
type relayBed struct {
	d        *deploy.Deployment
	agent    *observer
	customer *mautrix.Client
	business id.UserID
	// serviceDM is the customer's DM with the business identity; desk is where the
	// agent sees it, as written by the customer's ghost.
	serviceDM, desk id.RoomID
	ghost           id.UserID
	// directDM is the customer's DM with the agent.
	directDM id.RoomID
	// bare is the baseline relay bot: bareDM is the customer's DM with it, bareDesk
	// where the agent sees its ghost's copies.
	bare             *bareRelay
	bareDM, bareDesk id.RoomID
}

// startRelayBed starts the deployment with one agent, registers the agent and a
// customer before the service starts (so the agent's control room is created at
// once), makes the agent ready, opens a conversation that the agent accepts and
// joins, and opens the direct DM. Both paths are warmed up: the first message into a
// freshly joined federated room can wait for the join to reach the other server.
func startRelayBed(ctx context.Context, db string, pg *pgcluster.Cluster, log zerolog.Logger) (_ *relayBed, err error) {
	opts := deploy.Options{Database: db, NoService: true, Log: log, Configure: func(cfg *config.Config) {
		cfg.Limits = config.LimitsConfig{} // the relay workload floods on purpose
		cfg.Tenants[0].Staff = []routing.Staff{{UserID: "@agent:" + cfg.Homeserver.Domain, Name: "Agent", Role: routing.RoleAgent}}
		// Route at once: the bench customer never answers the consent prompt.
		cfg.Tenants[0].ConsentWait, cfg.Tenants[0].Workflow = 0, nil
	}}
	if db == "postgres" {
		if opts.PostgresURI, err = pg.CreateDatabase(ctx, fmt.Sprintf("relay_%d_%d", os.Getpid(), dbCounter.Add(1))); err != nil {
			return nil, err
		}
	}
	b := &relayBed{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if b.bare, err = newBareRelay(); err != nil {
		return nil, err
	}
	opts.MoreAppservices = func(business *testbed.Server) ([]string, error) {
		path, err := b.bare.writeRegistration(business)
		return []string{path}, err
	}
	if b.d, err = deploy.Start(ctx, opts); err != nil {
		return nil, err
	}
	if err = b.bare.start(ctx, b.d.Bed.Business.URL, b.d.Bed.Business.ServerName, log); err != nil {
		return nil, err
	}
	agentAcct, err := b.d.Bed.Business.Register(ctx, "agent", "agent-password", false)
	if err != nil {
		return nil, err
	}
	custAcct, err := b.d.Bed.Customer.Register(ctx, "customer", "customer-password", false)
	if err != nil {
		return nil, err
	}
	if err = b.d.StartService(ctx); err != nil {
		return nil, err
	}
	if b.agent, err = newObserver(ctx, b.d.Bed.Business.URL, id.UserID(agentAcct.UserID), agentAcct.AccessToken, log); err != nil {
		return nil, err
	}
	if b.customer, err = mautrix.NewClient(b.d.Bed.Customer.URL, id.UserID(custAcct.UserID), custAcct.AccessToken); err != nil {
		return nil, err
	}
	b.customer.Log = log
	tenant := &b.d.Config.Tenants[0]
	b.business = b.d.Config.BusinessUserID(tenant)
	if err = b.assignConversation(ctx, tenant.ID); err != nil {
		return nil, err
	}
	if b.directDM, err = b.openDM(ctx, b.agent.UserID); err != nil {
		return nil, fmt.Errorf("direct DM: %w", err)
	}
	if err = joinWhenInvited(ctx, b.agent.Client, b.directDM); err != nil {
		return nil, err
	}
	if b.bareDM, err = b.openDM(ctx, b.bare.bot); err != nil {
		return nil, fmt.Errorf("DM with the bare relay: %w", err)
	}
	if b.bareDesk, err = b.bare.setUp(ctx, b.agent.Client, b.customer.UserID, b.bareDM); err != nil {
		return nil, err
	}
	for _, p := range b.paths() {
		if err = b.warmUp(ctx, p); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// assignConversation walks the agent through what a shift starts with: join the
// control room, say !ready, get offered the customer's new conversation, accept it,
// join its desk and side rooms.
func (b *relayBed) assignConversation(ctx context.Context, tenantID string) error {
	var control id.RoomID
	err := pollUntil(ctx, 50*time.Millisecond, func() (bool, error) {
		record, err := b.d.Service.DB.Staff.Get(ctx, tenantID, b.agent.UserID)
		if err == nil && record != nil {
			control = record.ControlRoomID
		}
		return control != "", err
	})
	if err != nil {
		return fmt.Errorf("control room: %w", err)
	}
	if err = joinWhenInvited(ctx, b.agent.Client, control); err != nil {
		return err
	}
	if err = b.command(ctx, control, "!ready", "You are now **ready**"); err != nil {
		return err
	}
	if b.serviceDM, err = b.openDM(ctx, b.business); err != nil {
		return fmt.Errorf("DM with the business: %w", err)
	}
	if err = b.agent.waitMatch(ctx, control, b.business, "Reply **accept**", setupTimeout); err != nil {
		return fmt.Errorf("the offer: %w", err)
	}
	if err = b.command(ctx, control, "accept", "is yours"); err != nil {
		return err
	}
	conv, err := b.d.Service.DB.Conversation.Open(ctx, b.serviceDM)
	if err != nil || conv == nil {
		return fmt.Errorf("no open conversation in %s: %v", b.serviceDM, err)
	}
	b.desk, b.ghost = conv.DeskRoom, conv.Ghost
	// The side room gets every message's mirror: an agent has it open too.
	for _, room := range []id.RoomID{conv.DeskRoom, conv.SideRoom} {
		if err = joinWhenInvited(ctx, b.agent.Client, room); err != nil {
			return err
		}
	}
	return nil
}

// command sends a command in the control room and waits for the service's answer.
func (b *relayBed) command(ctx context.Context, room id.RoomID, body, want string) error {
	if _, err := b.agent.SendText(ctx, room, body); err != nil {
		return err
	}
	if err := b.agent.waitMatch(ctx, room, b.business, want, setupTimeout); err != nil {
		return fmt.Errorf("%s: %w", body, err)
	}
	return nil
}

// openDM creates an unencrypted direct chat from the customer, as Element does
// without encryption.
func (b *relayBed) openDM(ctx context.Context, with id.UserID) (id.RoomID, error) {
	resp, err := b.customer.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{with}})
	if err != nil {
		return "", err
	}
	return resp.RoomID, nil
}

// joinWhenInvited joins as soon as the invite has arrived (over federation it takes
// a moment).
func joinWhenInvited(ctx context.Context, cli *mautrix.Client, room id.RoomID) error {
	waitCtx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	var lastErr error
	err := pollUntil(waitCtx, 100*time.Millisecond, func() (bool, error) {
		_, lastErr = cli.JoinRoomByID(waitCtx, room)
		return lastErr == nil, nil
	})
	if err != nil {
		return fmt.Errorf("%s joining %s: %w (last: %v)", cli.UserID, room, err, lastErr)
	}
	return nil
}

// path is one way from the customer to the agent's client.
type path struct {
	Name string
	// from is the room the customer writes in, to the room the agent reads, sender
	// who the agent sees writing there.
	from, to id.RoomID
	sender   id.UserID
}

const (
	pathRelayed = "relayed"
	pathDirect  = "direct"
	pathBare    = "bare_relay"
)

// paths are, in this order: through the service, the direct DM, through the bare
// relay bot.
func (b *relayBed) paths() []path {
	return []path{
		{Name: pathRelayed, from: b.serviceDM, to: b.desk, sender: b.ghost},
		{Name: pathDirect, from: b.directDM, to: b.directDM, sender: b.customer.UserID},
		{Name: pathBare, from: b.bareDM, to: b.bareDesk, sender: b.bare.ghost},
	}
}

// send is one customer message, as a client sends it (PUT with a transaction ID).
func (b *relayBed) send(ctx context.Context, p path, body string) (id.EventID, error) {
	resp, err := b.customer.SendMessageEvent(ctx, p.from, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// warmUp sends until one message has come through, and then a few more: until the
// customer's server has seen the other side's join, a message may not be sent to it.
func (b *relayBed) warmUp(ctx context.Context, p path) error {
	for i := range 30 {
		body := fmt.Sprintf("warmup-%s-%d", p.Name, i)
		if _, err := b.send(ctx, p, body); err != nil {
			return err
		}
		if _, err := b.agent.waitBody(ctx, p.to, body, 2*time.Second); err == nil {
			for k := range 5 {
				body = fmt.Sprintf("warmup-%s-again-%d", p.Name, k)
				if _, err = b.send(ctx, p, body); err == nil {
					_, err = b.agent.waitBody(ctx, p.to, body, setupTimeout)
				}
				if err != nil {
					return fmt.Errorf("warming up %s: %w", p.Name, err)
				}
			}
			return nil
		}
	}
	return fmt.Errorf("warming up %s: nothing arrived", p.Name)
}

func (b *relayBed) close() {
	if b.agent != nil {
		b.agent.close()
	}
	if b.d != nil {
		b.d.Close()
	}
	if b.bare != nil {
		b.bare.close()
	}
}
