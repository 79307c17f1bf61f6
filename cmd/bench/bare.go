package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/fakehs"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// bare is the baseline: the smallest appservice mautrix allows, with its own event
// processor in Sync mode (one event after the other, like our per-room order but for
// all rooms at once). It keeps nothing durable: a transaction is answered 200 as soon
// as its events are queued in memory. With durable set it is the simplest durable
// relay instead (simplerelay.go).
type bare struct {
	as      *appservice.AppService
	ep      *appservice.EventProcessor
	srv     *http.Server
	ln      net.Listener
	fake    *fakehs.Server
	echo    bool
	durable *durableRelay
	joined  atomic.Int64
	handled atomic.Int64
	failed  atomic.Int64
	done    chan struct{}
	target  atomic.Int64
	// setupCounts are the fake homeserver's request counts after setup.
	setupCounts map[string]int
}

// startBare starts the baseline and lets it join w.Rooms rooms through the same
// invites our service gets, so that its echoes need no join in the measured phase.
func startBare(ctx context.Context, w workload, echo bool, pg *pgcluster.Cluster, log zerolog.Logger) (_ *bare, err error) {
	b := &bare{echo: echo, done: make(chan struct{})}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	b.fake, err = fakehs.Start(fakehs.Options{ASToken: asToken, Domain: domain, SenderLocalpart: senderLocalpart, Log: log})
	if err != nil {
		return nil, err
	}
	if b.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	reg := appservice.CreateRegistration()
	reg.ID, reg.URL = "bench", "http://"+b.ln.Addr().String()
	reg.AppToken, reg.ServerToken, reg.SenderLocalpart = asToken, hsToken, senderLocalpart
	b.as = appservice.Create()
	b.as.Log = log
	b.as.Registration = reg
	b.as.HomeserverDomain = domain
	if err = b.as.SetHomeserverURL(b.fake.URL); err != nil {
		return nil, err
	}
	var handler http.Handler = b.as.Router
	intent := b.as.Intent(id.UserID(businessUser))
	b.ep = appservice.NewEventProcessor(b.as)
	b.ep.ExecMode = appservice.Sync
	if pg != nil {
		failed := func(err error) {
			log.Err(err).Msg("The simple relay could not relay")
			b.failed.Add(1)
		}
		if b.durable, err = startDurableRelay(ctx, pg, intent, failed); err != nil {
			return nil, err
		}
		handler = b.durable.storing(handler)
		keepConnections(b.as.HTTPClient, simpleRelayWorkers)
	}
	b.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(b.ln) }()

	b.ep.On(event.StateMember, func(ctx context.Context, evt *event.Event) {
		if evt.GetStateKey() == businessUser && evt.Content.AsMember().Membership == event.MembershipInvite {
			if err := intent.EnsureJoined(ctx, evt.RoomID); err != nil {
				zerolog.Ctx(ctx).Err(err).Msg("Baseline could not join")
				b.failed.Add(1)
			}
			b.joined.Add(1)
		}
	})
	b.ep.On(event.EventMessage, func(ctx context.Context, evt *event.Event) {
		if b.durable != nil {
			b.durable.hand(evt)
		} else if b.echo {
			_, err := intent.SendMessageEvent(ctx, evt.RoomID, event.EventMessage, &event.MessageEventContent{
				MsgType: event.MsgNotice, Body: "Echo: " + evt.Content.AsMessage().Body,
			})
			if err != nil {
				b.failed.Add(1)
			}
		}
		if b.handled.Add(1) == b.target.Load() {
			close(b.done)
		}
	})
	b.ep.Start(ctx)
	b.as.Ready = true

	for i := range w.Rooms {
		b.fake.SetMembership(room(i), customer(i), "join")
	}
	client := newDriver(1)
	defer client.CloseIdleConnections()
	if _, err = sendAll(ctx, client, b.baseURL(), "setup-", inviteTxns(w), 1); err != nil {
		return nil, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = pollUntil(waitCtx, pollInterval, func() (bool, error) { return b.joined.Load() == int64(w.Rooms), nil })
	if err == nil && b.failed.Load() > 0 {
		err = errors.New("the baseline could not join every room")
	}
	b.setupCounts = b.fake.Counts()
	return b, err
}

func (b *bare) baseURL() string { return "http://" + b.ln.Addr().String() }

// waitHandled waits for the handler to have seen every event and, with echo, for the
// fake homeserver to have received every echo.
func (b *bare) waitHandled(ctx context.Context, events int) (time.Time, error) {
	if b.durable != nil {
		err := b.fake.WaitSends(ctx, copiesPerMessage*events)
		return time.Now(), err
	}
	if b.echo {
		err := b.fake.WaitSends(ctx, events)
		return time.Now(), err
	}
	select {
	case <-b.done:
		return time.Now(), nil
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("baseline handled %d of %d: %w", b.handled.Load(), events, ctx.Err())
	}
}

// arm tells the handler how many events make the run complete; call it before sending.
func (b *bare) arm(events int) { b.target.Store(int64(events)) }

func (b *bare) verify(ctx context.Context, events int) (int, error) {
	// With echo the clock stopped at the last send's arrival; the handler counts it a
	// moment later, when the send returns.
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
	}
	if n := b.handled.Load(); n != int64(events) || b.failed.Load() > 0 {
		return 0, fmt.Errorf("baseline handled %d of %d events, %d failed", n, events, b.failed.Load())
	}
	if b.durable != nil {
		if err := b.durable.verify(ctx, events); err != nil {
			return 0, err
		}
	}
	return b.fake.Sends(), nil
}

func (b *bare) unrecognized() map[string]int { return b.fake.Unrecognized() }

func (b *bare) stats() map[string]int64 {
	out := map[string]int64{}
	addCounts(out, b.fake.Counts(), b.setupCounts)
	return out
}

func (b *bare) close() {
	if b.ep != nil {
		b.ep.Stop()
	}
	if b.srv != nil {
		_ = b.srv.Close()
	}
	if b.fake != nil {
		b.fake.Close()
	}
	if b.durable != nil {
		b.durable.close()
	}
}
