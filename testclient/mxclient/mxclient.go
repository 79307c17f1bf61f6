// Package mxclient is a customer's Matrix client for tests, built on mautrix's own
// client and crypto (not on the service's code): it logs in with a password, syncs,
// creates DMs as Element does, and records every event it sees, decrypted.
package mxclient

import (
	"context"

	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	_ "modernc.org/sqlite"
)

// Client is a logged-in, syncing test client.
type Client struct {
	*mautrix.Client
	Crypto *cryptohelper.CryptoHelper

	mu     sync.Mutex
	events map[id.RoomID][]*event.Event
	// untrusted are decrypted events from devices the client excludes.
	untrusted map[id.RoomID][]*event.Event
	// ephemeral are the typing notifications and receipts of each room (ephemeral.go).
	ephemeral map[id.RoomID][]*event.Event
	changed   chan struct{}
	cancel    context.CancelFunc
	done      chan struct{}
	db        *dbutil.Database
}

// Options for Login.
type Options struct {
	HomeserverURL string
	UserID        id.UserID
	Password      string
	// Encryption gives the client a device with keys (stored in Dir).
	Encryption bool
	Dir        string
	Log        zerolog.Logger
}

// Login logs in and starts syncing.
func Login(ctx context.Context, opts Options) (*Client, error) {
	cli, err := mautrix.NewClient(opts.HomeserverURL, "", "")
	if err != nil {
		return nil, err
	}
	cli.Log = opts.Log
	c := &Client{Client: cli, events: map[id.RoomID][]*event.Event{}, untrusted: map[id.RoomID][]*event.Event{}, ephemeral: map[id.RoomID][]*event.Event{}, changed: make(chan struct{})}
	login := &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: opts.UserID.String()},
		Password:         opts.Password,
		StoreCredentials: true,
	}
	if opts.Encryption {
		c.db, err = dbutil.NewWithDialect("file:"+filepath.Join(opts.Dir, "client-"+opts.UserID.Localpart()+".db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)", "sqlite")
		if err != nil {
			return nil, err
		}
		c.Crypto, err = cryptohelper.NewCryptoHelper(cli, []byte("test pickle key"), c.db)
		if err != nil {
			return nil, err
		}
		c.Crypto.LoginAs = login
		if err = c.Crypto.Init(ctx); err != nil {
			return nil, fmt.Errorf("crypto init: %w", err)
		}
		cli.Crypto = c.Crypto
		if err = c.bootstrapCrossSigning(ctx, opts.Password); err != nil {
			return nil, fmt.Errorf("cross-signing: %w", err)
		}
		// Exclude insecure devices, as Element does (MSC4153): room keys only for
		// devices their owner cross-signed; what other devices sent is not shown.
		c.Crypto.Machine().SendKeysMinTrust = id.TrustStateCrossSignedTOFU
		c.Crypto.Machine().ShareKeysMinTrust = id.TrustStateCrossSignedTOFU
	} else {
		if _, err = cli.Login(ctx, login); err != nil {
			return nil, err
		}
		cli.StateStore = mautrix.NewMemoryStateStore()
	}
	syncer := cli.Syncer.(*mautrix.DefaultSyncer)
	syncer.OnEvent(cli.StateStoreSyncHandler)
	syncer.OnEvent(c.record)
	syncer.OnEvent(c.recordEphemeral)
	syncCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		for syncCtx.Err() == nil {
			if err := cli.SyncWithContext(syncCtx); err != nil && syncCtx.Err() == nil {
				opts.Log.Warn().Err(err).Msg("test client sync failed; retrying")
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	return c, nil
}

// record keeps timeline events; encrypted ones arrive a second time decrypted
// (the crypto helper dispatches them), and only the decrypted copy is kept.
func (c *Client) record(ctx context.Context, evt *event.Event) {
	if evt.Mautrix.EventSource&event.SourceTimeline == 0 && evt.Mautrix.EventSource&event.SourceDecrypted == 0 {
		return
	}
	if evt.Type == event.EventEncrypted {
		return
	}
	c.mu.Lock()
	if evt.Mautrix.WasEncrypted && evt.Mautrix.TrustState < id.TrustStateCrossSignedTOFU {
		// From a device its owner did not cross-sign, or an identity that changed:
		// a client that excludes insecure devices shows it as undecryptable.
		c.untrusted[evt.RoomID] = append(c.untrusted[evt.RoomID], evt)
		c.mu.Unlock()
		return
	}
	c.events[evt.RoomID] = append(c.events[evt.RoomID], evt)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// Untrusted returns the events the client decrypted but does not show: sent by a
// device its owner did not cross-sign.
func (c *Client) Untrusted(roomID id.RoomID) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*event.Event(nil), c.untrusted[roomID]...)
}

// bootstrapCrossSigning gives the user a cross-signing identity and signs this
// device with it, as Element does at first login.
func (c *Client) bootstrapCrossSigning(ctx context.Context, password string) error {
	mach := c.Crypto.Machine()
	keys, err := mach.GenerateCrossSigningKeys()
	if err != nil {
		return err
	}
	err = mach.PublishCrossSigningKeys(ctx, keys, func(uia *mautrix.RespUserInteractive) any {
		return map[string]any{
			"type": mautrix.AuthTypePassword, "session": uia.Session, "password": password,
			"identifier": mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: c.UserID.String()},
		}
	})
	if err != nil {
		return err
	}
	if err = mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
		return err
	}
	return mach.SignOwnMasterKey(ctx)
}

// DeviceTrust is how this client trusts another user's device after fetching their
// keys afresh: at least id.TrustStateCrossSignedTOFU means signed by its owner's
// identity as first seen; id.TrustStateCrossSignedUntrusted means the identity
// changed since.
func (c *Client) DeviceTrust(ctx context.Context, userID id.UserID, deviceID id.DeviceID) (id.TrustState, error) {
	mach := c.Crypto.Machine()
	devices, err := mach.FetchKeys(ctx, []id.UserID{userID}, false)
	if err != nil {
		return id.TrustStateUnset, err
	}
	device := devices[userID][deviceID]
	if device == nil {
		return id.TrustStateUnset, fmt.Errorf("%s has no device %s", userID, deviceID)
	}
	return mach.ResolveTrustContext(ctx, device)
}

// Events returns the (decrypted) timeline events seen in a room so far.
func (c *Client) Events(roomID id.RoomID) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*event.Event(nil), c.events[roomID]...)
}

// WaitFor waits until an event in the room matches.
func (c *Client) WaitFor(ctx context.Context, roomID id.RoomID, timeout time.Duration, match func(*event.Event) bool) (*event.Event, error) {
	return c.waitIn(ctx, c.events, "event", roomID, timeout, match)
}

// waitIn waits until an event of the room in seen (a map guarded by c.mu) matches.
func (c *Client) waitIn(ctx context.Context, seen map[id.RoomID][]*event.Event, what string, roomID id.RoomID, timeout time.Duration,
	match func(*event.Event) bool) (*event.Event, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		changed := c.changed
		for _, evt := range seen[roomID] {
			if match(evt) {
				c.mu.Unlock()
				return evt, nil
			}
		}
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			return nil, fmt.Errorf("no matching %s in %s after %s", what, roomID, timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// CreateDM creates a direct chat as Element does: trusted_private_chat, is_direct,
// and the encryption state event when asked.
func (c *Client) CreateDM(ctx context.Context, target id.UserID, encrypted bool) (id.RoomID, error) {
	req := &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{target}}
	if encrypted {
		req.InitialState = []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}}
	}
	resp, err := c.CreateRoom(ctx, req)
	if err != nil {
		return "", err
	}
	if _, err = c.State(ctx, resp.RoomID); err != nil {
		return "", err
	}
	return resp.RoomID, nil
}

// SendText sends a text message (encrypted in encrypted rooms).
func (c *Client) SendText(ctx context.Context, roomID id.RoomID, body string) (id.EventID, error) {
	resp, err := c.SendMessageEvent(ctx, roomID, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// Close stops syncing and closes the client's store.
func (c *Client) Close() error {
	c.cancel()
	c.StopSync()
	<-c.done
	if c.db != nil {
		return c.db.Close()
	}
	return nil
}
