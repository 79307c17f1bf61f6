package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/identity"
	"github.com/contactcenter/contactcenter/routing"
)

// Tenant is one business's running identity: the appservice user customers DM.
type Tenant struct {
	*config.Tenant
	UserID id.UserID
	// Client acts as the business identity: with encryption in sync mode it holds the
	// identity's own device token, otherwise the appservice token with ?user_id=.
	Client *mautrix.Client
	Intent *appservice.IntentAPI
	// Crypto is nil when encryption is off.
	Crypto *cryptohelper.CryptoHelper

	// names gives customers their pseudonyms and ghosts at this tenant.
	names *identity.Pseudonyms
	// router selects agents; a cache of the database, see syncRouter.
	router *routing.Router
	// queueTold is what waiting customers were told of their place (tellQueue).
	queueMu   sync.Mutex
	queueTold map[int64]queueNotice
	// live holds the staff and workflow as the database has them (staffprofiles.go).
	live tenantLive

	b          *Bridge
	syncCancel context.CancelFunc
	syncDone   chan struct{}
}

func (b *Bridge) startTenants(ctx context.Context) error {
	for i := range b.Config.Tenants {
		tc := &b.Config.Tenants[i]
		t := &Tenant{Tenant: tc, UserID: b.Config.BusinessUserID(tc), b: b,
			names: identity.NewPseudonyms([]byte(b.Config.Privacy.PseudonymKey), tc.ID), queueTold: map[int64]queueNotice{}}
		wf, err := b.loadLive(ctx, t)
		if err != nil {
			return fatal(ExitDatabase, "the tenant's staff could not be read", err)
		}
		if t.router, err = routing.NewRouter(wf, t.staff()); err != nil {
			return fatal(ExitConfig, "check the tenant's workflow and staff", fmt.Errorf("tenant %s: %w", tc.ID, err))
		}
		t.Intent = b.AS.Intent(t.UserID)
		b.tenants[t.UserID] = t
		if err := t.start(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tenant) start(ctx context.Context) error {
	log := zerolog.Ctx(ctx).With().Str("tenant", t.ID).Stringer("user_id", t.UserID).Logger()
	ctx = log.WithContext(ctx)
	if err := t.b.ensureRegistered(ctx, t.UserID.String(), t.Intent.EnsureRegistered); err != nil {
		return err
	}
	if err := t.Intent.SetDisplayName(ctx, t.DisplayName); err != nil {
		log.Warn().Err(err).Msg("Could not set the business identity's display name")
	}
	if t.Avatar != "" {
		if uri, err := id.ParseContentURI(t.Avatar); err != nil {
			log.Warn().Err(err).Msg("tenant avatar is not an mxc URI; skipped")
		} else if err = t.Intent.SetAvatarURL(ctx, uri); err != nil {
			log.Warn().Err(err).Msg("Could not set the business identity's avatar")
		}
	}
	enc := t.b.Config.Encryption
	switch {
	case enc.Enabled && enc.Mode == config.EncryptionSync:
		// A device of its own, logged in with the appservice token; its /sync carries
		// to-device messages, which not every homeserver pushes to appservices.
		t.Client = t.b.newClient(t.UserID)
		t.Client.AccessToken = t.b.Config.Appservice.ASToken
	case enc.Enabled && enc.Mode == config.EncryptionAppservice:
		t.Client = t.Intent.Client
		t.Client.SetAppServiceDeviceID = true
	default:
		t.Client = t.Intent.Client
	}
	if enc.Enabled {
		if err := t.initCrypto(ctx); err != nil {
			var startErr *StartError
			if errors.As(err, &startErr) {
				return err
			}
			return fatal(ExitEncryption, "could not set up the business identity's encryption device", err)
		}
	}
	t.startSync(ctx)
	return nil
}

// newClient makes a plain client for a user on the business homeserver that shares the
// service's state store (membership, encryption state) and HTTP settings.
func (b *Bridge) newClient(userID id.UserID) *mautrix.Client {
	cli, err := mautrix.NewClient(b.Config.Homeserver.Address, userID, "")
	if err != nil {
		panic(err) // the address was validated at start-up
	}
	cli.StateStore = b.StateStore
	keepConnections(cli.Client)
	b.timeRequests(cli.Client)
	cli.Log = b.clientLog(userID)
	cli.SpecVersions = b.AS.SpecVersions
	cli.UserAgent = b.AS.UserAgent
	return cli
}

// clientLog is the log of Matrix clients: their request dumps (which include message
// bodies and key uploads) appear only at trace level.
func (b *Bridge) clientLog(userID id.UserID) zerolog.Logger {
	log := b.Log.With().Str("component", "client").Stringer("user_id", userID).Logger()
	if b.Log.GetLevel() > zerolog.TraceLevel {
		log = log.Level(max(b.Log.GetLevel(), zerolog.InfoLevel))
	}
	return log
}

func (t *Tenant) initCrypto(ctx context.Context) error {
	helper, err := cryptohelper.NewCryptoHelper(t.Client, []byte(t.b.Config.Encryption.PickleKey), t.b.DB.Database)
	if err != nil {
		return err
	}
	helper.DBAccountID = t.UserID.String()
	helper.MSC4190 = t.b.Config.Encryption.MSC4190
	reused, err := t.reuseDevice(ctx)
	if err != nil {
		return err
	}
	if !reused {
		helper.LoginAs = &mautrix.ReqLogin{
			Type:                     mautrix.AuthTypeAppservice,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: t.UserID.String()},
			InitialDeviceDisplayName: t.Name + " contact center",
		}
	}
	// Decrypted events are handled by the inbox, never by the helper's own dispatch.
	helper.CustomPostDecrypt = func(context.Context, *event.Event) {}
	if err = helper.Init(ctx); err != nil {
		return err
	}
	if !reused && !t.Client.SetAppServiceDeviceID {
		if err = t.b.DB.Devices.Put(ctx, &database.BusinessDevice{UserID: t.UserID, DeviceID: t.Client.DeviceID, AccessToken: t.Client.AccessToken}); err != nil {
			return err
		}
	}
	// Customers verify nobody; accept their unverified devices both ways.
	mach := helper.Machine()
	mach.ShareKeysMinTrust = id.TrustStateUnset
	mach.SendKeysMinTrust = id.TrustStateUnset
	t.Crypto = helper
	t.Client.Crypto = helper
	if err = t.ensureCrossSigning(ctx); err != nil {
		return err
	}
	zerolog.Ctx(ctx).Debug().Stringer("device_id", t.Client.DeviceID).Msg("Encryption ready")
	return nil
}

// reuseDevice gives the client the device and access token of the last start, if
// they still work. A homeserver deduplicates a resent transaction ID only for the same
// access token: a fresh login at each start would double a message whose send was cut
// short by the restart.
func (t *Tenant) reuseDevice(ctx context.Context) (bool, error) {
	if t.Client.SetAppServiceDeviceID {
		return false, nil // appservice mode: the appservice token is the token
	}
	device, err := t.b.DB.Devices.Get(ctx, t.UserID)
	if err != nil || device == nil || device.AccessToken == "" {
		return false, err
	}
	t.Client.DeviceID, t.Client.AccessToken = device.DeviceID, device.AccessToken
	if _, err = t.Client.Whoami(ctx); errors.Is(err, mautrix.MUnknownToken) {
		zerolog.Ctx(ctx).Info().Msg("The stored device token is no longer valid; logging in again")
		t.Client.AccessToken = t.b.Config.Appservice.ASToken
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// decrypt decrypts a customer's event. A missing session usually means the keys are
// still on their way over to-device: wait a little, then ask the inbox to retry later.
func (t *Tenant) decrypt(ctx context.Context, evt *event.Event, attempts int) (*event.Event, error) {
	if t.Crypto == nil {
		return nil, permanent(errors.New("encrypted event, but encryption is disabled"))
	}
	decrypted, err := t.Crypto.Decrypt(ctx, evt)
	if errors.Is(err, crypto.ErrNoSessionFound) {
		content := evt.Content.AsEncrypted()
		if t.Crypto.WaitForSession(ctx, evt.RoomID, content.SenderKey, content.SessionID, 5*time.Second) {
			decrypted, err = t.Crypto.Decrypt(ctx, evt)
		} else if attempts == 2 {
			t.Crypto.RequestSession(ctx, evt.RoomID, content.SenderKey, content.SessionID, evt.Sender, content.DeviceID)
		}
	}
	if err != nil && undecryptable(err) {
		return nil, permanent(fmt.Errorf("decrypting: %w", err))
	} else if err != nil {
		// A missing session (its keys may still arrive) or a passing failure of the
		// database or network: retried, within the inbox's bound.
		return nil, fmt.Errorf("decrypting: %w", err)
	}
	decrypted.Mautrix.EventSource |= event.SourceDecrypted
	return decrypted, nil
}

// staffEntry returns the staff member, or nil if they are not this
// tenant's staff.
func (t *Tenant) staffEntry(userID id.UserID) *routing.Staff {
	staff := t.staff()
	for i := range staff {
		if staff[i].UserID == userID.String() {
			return &staff[i]
		}
	}
	return nil
}

// findStaff resolves "@carol:example.com" or "Carol" to a staff member of the tenant.
func (t *Tenant) findStaff(ref string) *routing.Staff {
	staff := t.staff()
	for i := range staff {
		if staff[i].UserID == ref || strings.EqualFold(staff[i].Name, ref) {
			return &staff[i]
		}
	}
	return nil
}

// staffName is the name staff and customers see for a staff member.
func (t *Tenant) staffName(userID id.UserID) string {
	if s := t.staffEntry(userID); s != nil {
		return s.Name
	}
	return userID.Localpart()
}
