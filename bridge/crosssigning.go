package bridge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/seal"
)

// Clients that exclude insecure devices (MSC4153; Element does for everyone) share
// room keys only with devices their owner cross-signed, and refuse to decrypt
// anything else. So each business identity has a cross-signing identity, created
// once and kept in the database, and signs whichever device it uses.

// crossSigningSeal is the purpose the seeds are sealed under (see internal/seal).
const crossSigningSeal = "cross-signing seeds"

// hintCrossSigningAuth tells the operator what to do when the homeserver wants a
// password to publish the keys (Dendrite does; Synapse does not ask appservice users).
const hintCrossSigningAuth = "the homeserver asks for the business identity's password to publish its cross-signing keys: " +
	"set tenants[].account_password and give the account that password with the homeserver's admin API " +
	"(Dendrite: POST /_dendrite/admin/resetPassword/{user_id}); see the README, section Encryption"

// ensureCrossSigning makes sure the business identity has its one cross-signing
// identity published and its current device signed by it. It runs at every start:
// the first start creates the identity, a new device is signed by the existing one,
// and an identity is never replaced by a new one.
func (t *Tenant) ensureCrossSigning(ctx context.Context) error {
	log := zerolog.Ctx(ctx)
	mach := t.Crypto.Machine()
	published, deviceSigned, err := t.publishedCrossSigning(ctx)
	if err != nil {
		return fatal(ExitHomeserverDown, "could not read the business identity's published keys", err)
	}
	stored, err := t.b.DB.CrossSigning.Get(ctx, t.UserID)
	if err != nil {
		return fatal(ExitDatabase, "could not read the cross-signing identity", err)
	}
	if stored == nil {
		if published != "" {
			return fatal(ExitCrossSigning, "the homeserver already has a cross-signing identity for "+t.UserID.String()+
				" that this database does not hold: restore it with `contactcenter -import-cross-signing FILE` from the backup "+
				"`-export-cross-signing` wrote; a new identity would make every customer's client warn that the business changed",
				fmt.Errorf("cross-signing identity %s is not in the database", published))
		}
		if stored, err = t.createCrossSigning(ctx); err != nil {
			return fatal(ExitDatabase, "could not store a new cross-signing identity", err)
		}
	}
	seeds, err := openSeeds(t.b.Config.Encryption.PickleKey, stored)
	if err != nil {
		return fatal(ExitCrossSigning, "the cross-signing seeds cannot be opened: is encryption.pickle_key the one they were stored with?", err)
	}
	if err = mach.ImportCrossSigningKeys(*seeds); err != nil {
		return fatal(ExitCrossSigning, "the stored cross-signing seeds are damaged; restore them with -import-cross-signing", err)
	}
	if published != stored.MasterKey {
		if published != "" {
			log.Warn().Str("published", published).Str("stored", stored.MasterKey).
				Msg("The homeserver has another cross-signing identity than the database; publishing the stored one again")
		}
		if err = mach.PublishCrossSigningKeys(ctx, mach.CrossSigningKeys, t.crossSigningAuth); err != nil {
			if isAuthRefusal(err) {
				return fatal(ExitCrossSigning, hintCrossSigningAuth, err)
			}
			return fatal(ExitCrossSigning, "could not publish the business identity's cross-signing keys", err)
		}
		deviceSigned = false
		log.Info().Str("master_key", stored.MasterKey).Msg("Published the cross-signing identity")
	}
	if !deviceSigned {
		if err = mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
			return fatal(ExitCrossSigning, "could not sign the business identity's device", err)
		}
		if err = mach.SignOwnMasterKey(ctx); err != nil {
			return fatal(ExitCrossSigning, "could not sign the master key with the device", err)
		}
		if err = t.announceSignedDevice(ctx); err != nil {
			return fatal(ExitCrossSigning, "could not publish the signed device keys", err)
		}
		log.Info().Stringer("device_id", t.Client.DeviceID).Msg("Signed the device with the cross-signing identity")
	}
	return nil
}

// announceSignedDevice uploads the device's keys again, now carrying the
// self-signing signature. Some homeservers (Dendrite) tell other servers of a
// self-signature only as a cross-signing key change, never as a change of the device,
// so a server that cached the device before it was signed goes on serving it unsigned,
// and its users' clients exclude it. Signed keys uploaded as the device's keys reach
// every server as a device change.
func (t *Tenant) announceSignedDevice(ctx context.Context) error {
	resp, err := t.Client.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{t.UserID: {t.Client.DeviceID}}})
	if err != nil {
		return err
	}
	keys, ok := resp.DeviceKeys[t.UserID][t.Client.DeviceID]
	if !ok {
		return fmt.Errorf("the homeserver does not know device %s", t.Client.DeviceID)
	}
	keys.Unsigned = nil
	_, err = t.Client.UploadKeys(ctx, &mautrix.ReqUploadKeys{DeviceKeys: &keys})
	return err
}

// publishedCrossSigning reads the master key the homeserver has for the business
// identity ("" if none) and whether the current device carries a self-signing
// signature that matches the published self-signing key.
func (t *Tenant) publishedCrossSigning(ctx context.Context) (master string, deviceSigned bool, err error) {
	resp, err := t.Client.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{t.UserID: {}}})
	if err != nil {
		return "", false, err
	}
	if mk, ok := resp.MasterKeys[t.UserID]; ok {
		master = mk.FirstKey().String()
	}
	ssk, ok := resp.SelfSigningKeys[t.UserID]
	device, found := resp.DeviceKeys[t.UserID][t.Client.DeviceID]
	if ok && found {
		keyID := id.NewKeyID(id.KeyAlgorithmEd25519, ssk.FirstKey().String())
		_, deviceSigned = device.Signatures[t.UserID][keyID]
	}
	return master, deviceSigned, nil
}

// createCrossSigning generates an identity and stores it, or returns the one another
// replica stored first.
func (t *Tenant) createCrossSigning(ctx context.Context) (*database.CrossSigningIdentity, error) {
	keys, err := t.Crypto.Machine().GenerateCrossSigningKeys()
	if err != nil {
		return nil, err
	}
	row, err := sealSeeds(t.b.Config.Encryption.PickleKey, t.UserID, keys.Seeds())
	if err != nil {
		return nil, err
	}
	row.CreatedAt = t.b.now()
	return t.b.DB.CrossSigning.Create(ctx, row)
}

// crossSigningAuth answers the homeserver's user-interactive authentication for the
// key upload: a dummy stage where offered, else the configured password, else
// nothing (the upload then fails with the homeserver's refusal).
func (t *Tenant) crossSigningAuth(uia *mautrix.RespUserInteractive) any {
	switch {
	case uia.HasSingleStageFlow(mautrix.AuthTypeDummy):
		return mautrix.BaseAuthData{Type: mautrix.AuthTypeDummy, Session: uia.Session}
	case uia.HasSingleStageFlow(mautrix.AuthTypePassword) && t.AccountPassword != "":
		return map[string]any{
			"type":       mautrix.AuthTypePassword,
			"session":    uia.Session,
			"identifier": mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: t.UserID.String()},
			"password":   t.AccountPassword,
		}
	}
	return nil
}

// isAuthRefusal tells whether the homeserver refused the upload for lack of (right)
// authentication.
func isAuthRefusal(err error) bool {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		code := httpErr.Response.StatusCode
		return code == http.StatusUnauthorized || code == http.StatusForbidden
	}
	return false
}

// sealSeeds makes the database row of an identity: the public master key, and the
// seeds sealed with the pickle key (bound to the user, so rows cannot be swapped).
func sealSeeds(pickleKey string, userID id.UserID, seeds crypto.CrossSigningSeeds) (*database.CrossSigningIdentity, error) {
	keys, err := seeds.Decode()
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(seeds)
	if err != nil {
		return nil, err
	}
	sealed, err := seal.Seal([]byte(pickleKey), crossSigningSeal, plain, []byte(userID))
	if err != nil {
		return nil, err
	}
	return &database.CrossSigningIdentity{
		UserID: userID, MasterKey: keys.MasterKey.PublicKey().String(), Seeds: encodeSealed(sealed),
	}, nil
}

// openSeeds opens a stored identity's seeds and checks they belong to its master key.
func openSeeds(pickleKey string, row *database.CrossSigningIdentity) (*crypto.CrossSigningSeeds, error) {
	sealed, err := decodeSealed(row.Seeds)
	if err != nil {
		return nil, err
	}
	plain, err := seal.Open([]byte(pickleKey), crossSigningSeal, sealed, []byte(row.UserID))
	if err != nil {
		return nil, err
	}
	var seeds crypto.CrossSigningSeeds
	if err = json.Unmarshal(plain, &seeds); err != nil {
		return nil, err
	}
	keys, err := seeds.Decode()
	if err != nil {
		return nil, err
	}
	if got := keys.MasterKey.PublicKey().String(); got != row.MasterKey {
		return nil, fmt.Errorf("the seeds are of master key %s, the row says %s", got, row.MasterKey)
	}
	return &seeds, nil
}

func encodeSealed(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func decodeSealed(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
