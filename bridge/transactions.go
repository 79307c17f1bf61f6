package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/rs/zerolog"
	"go.mau.fi/util/exhttp"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/dashboard"
	"github.com/contactcenter/contactcenter/database"
)

// maxTransactionSize bounds what one transaction may make us read into memory.
// Synapse caps transactions at 100 PDUs of at most 64 KiB each.
const maxTransactionSize = 16 << 20

func (b *Bridge) routes(contextAPI http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(contextapi.PathPrefix, contextAPI)
	mux.Handle(adminapi.PathPrefix, b.adminHandler())
	if b.dash != nil {
		mux.Handle(dashboard.PathPrefix, b.whenTenantsReady(b.dash.server.ServeHTTP))
	}
	mux.HandleFunc("PUT /_matrix/app/v1/transactions/{txnID}", b.whenTenantsReady(b.putTransaction))
	mux.HandleFunc("GET /_matrix/app/v1/users/{userID}", b.whenTenantsReady(b.AS.GetUser))
	mux.HandleFunc("GET /_matrix/app/v1/rooms/{roomAlias}", b.AS.GetRoom)
	mux.HandleFunc("POST /_matrix/app/v1/ping", b.AS.PostPing)
	mux.HandleFunc("GET /_matrix/mau/live", b.AS.GetLive)
	mux.HandleFunc("GET /_matrix/mau/ready", b.AS.GetReady)
	return b.withRequestLog(mux)
}

// withRequestLog gives every request the service's log in its context, so that what
// handlers log (a context API request that failed, say) is not lost.
func (b *Bridge) withRequestLog(next http.Handler) http.Handler {
	log := b.Log.With().Str("component", "http").Logger()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(log.WithContext(r.Context())))
	})
}

// tenantsRetryAfter is what a homeserver is told to wait while start-up is still
// setting the tenants up.
const tenantsRetryAfter = "1"

// whenTenantsReady answers 503 with Retry-After until start-up has set the tenants
// up: the handlers read the tenants, which start-up is still writing before then. The
// homeserver keeps the transaction and sends it again.
func (b *Bridge) whenTenantsReady(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !b.tenantsReady.Load() {
			w.Header().Set("Retry-After", tenantsRetryAfter)
			mautrix.MUnknown.WithStatus(http.StatusServiceUnavailable).WithMessage("Starting up; try again shortly").Write(w)
			return
		}
		next(w, r)
	}
}

// eventHeader is just enough of an event to file it in the inbox and apply the
// customer limits to it.
type eventHeader struct {
	ID       id.EventID `json:"event_id"`
	RoomID   id.RoomID  `json:"room_id"`
	Type     string     `json:"type"`
	Sender   id.UserID  `json:"sender"`
	StateKey *string    `json:"state_key"`
}

// putTransaction stores the transaction's events in the inbox and only then answers
// 200: once the homeserver hears 200 it never sends them again, so they must already
// be safe on disk. A repeated transaction inserts nothing new.
func (b *Bridge) putTransaction(w http.ResponseWriter, r *http.Request) {
	if !b.AS.CheckServerToken(w, r) {
		return
	}
	txnID := r.PathValue("txnID")
	log := b.Log.With().Str("txn_id", txnID).Logger()
	ctx := log.WithContext(context.WithoutCancel(r.Context()))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTransactionSize))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		mautrix.MTooLarge.WithMessage("Transaction too large").Write(w)
		return
	} else if err != nil {
		mautrix.MNotJSON.WithMessage("Could not read the request body").Write(w)
		return
	}
	events, ext, skipped, err := decodeTransaction(body)
	if err != nil {
		log.Warn().Err(err).Msg("Malformed transaction")
		mautrix.MNotJSON.WithMessage(err.Error()).Write(w)
		return
	}
	if skipped > 0 {
		log.Warn().Int("skipped", skipped).Msg("Skipped malformed to-device messages, key counts, device lists or ephemeral events")
	}
	stored, pending, err := b.storeEvents(ctx, events)
	if err != nil {
		log.Err(err).Msg("Could not store transaction; the homeserver will retry")
		mautrix.MUnknown.WithMessage("Could not store the transaction").Write(w)
		return
	}
	log.Debug().Int("events", len(events)).Int("new", stored).Msg("Transaction stored")
	b.handleEncryptionExtensions(ctx, ext)
	b.handleEphemeral(nil, true, ext.EphemeralEvents...)
	exhttp.WriteEmptyJSONResponse(w, http.StatusOK)
	if stored > 0 {
		b.handInbox(pending...)
	}
}

// storeEvents writes PDUs into the inbox in one statement per chunk. Events without
// an ID or room are not Matrix PDUs: they are skipped, not fatal to the rest.
//
// A customer's events spend their rate-limit tokens here, so that those over the
// limit are stored already settled in the same statement and a flood costs neither a
// handler run nor a write transaction per event, which would delay every other room.
// A repeated transaction spends the tokens of its events again though the inbox adds
// nothing: telling new events from old ones would cost a read per transaction, and a
// homeserver repeats a transaction only when it missed our answer. pending lists the
// rooms of the events left for a handler.
func (b *Bridge) storeEvents(ctx context.Context, raws []json.RawMessage) (stored int, pending []id.RoomID, err error) {
	events := make([]database.NewInboxEvent, 0, len(raws))
	seen := make(map[id.EventID]bool, len(raws))
	limiter := receiptLimiter{b: b, now: b.now()}
	dropped := 0
	for _, raw := range raws {
		var hdr eventHeader
		if json.Unmarshal(raw, &hdr) != nil || hdr.ID == "" || hdr.RoomID == "" || hdr.Type == "" {
			zerolog.Ctx(ctx).Warn().Msg("Skipping an event without event_id, room_id or type")
			continue
		}
		if seen[hdr.ID] {
			continue // PostgreSQL refuses one statement that conflicts with itself
		}
		seen[hdr.ID] = true
		verdict := limiter.verdict(hdr.Sender, hdr.Type, hdr.StateKey != nil)
		if verdict == database.OverLimitDropped {
			dropped++
		} else if !slices.Contains(pending, hdr.RoomID) {
			pending = append(pending, hdr.RoomID)
		}
		events = append(events, database.NewInboxEvent{Key: hdr.ID.String(), RoomID: hdr.RoomID, Body: raw, Limit: verdict})
	}
	if dropped > 0 {
		zerolog.Ctx(ctx).Warn().Int("dropped", dropped).Msg("Customer events over the event limit dropped on receipt")
	}
	if len(events) == 0 {
		return 0, nil, nil
	}
	stored, err = b.DB.Inbox.InsertMany(ctx, database.SourceTransaction, events, b.now())
	return stored, pending, err
}

// handleEncryptionExtensions passes pushed to-device events, key counts and device
// lists (MSC2409/MSC3202) to the crypto machine of the business identity they are for.
// They are not customer content and the crypto store persists what it needs.
func (b *Bridge) handleEncryptionExtensions(ctx context.Context, txn *appservice.Transaction) {
	toDevice := txn.ToDeviceEvents
	if toDevice == nil {
		toDevice = txn.MSC2409ToDeviceEvents
	}
	for _, evt := range toDevice {
		if t := b.tenants[evt.ToUserID]; t != nil && t.Crypto != nil {
			evt.Type.Class = event.ToDeviceEventType
			if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrUnsupportedContentType) {
				continue
			}
			t.Crypto.Machine().HandleToDeviceEvent(ctx, evt)
		}
	}
	otks := txn.DeviceOTKCount
	if otks == nil {
		otks = txn.MSC3202DeviceOTKCount
	}
	for userID, devices := range otks {
		if t := b.tenants[userID]; t != nil && t.Crypto != nil {
			for deviceID, count := range devices {
				if deviceID == t.Client.DeviceID {
					count.UserID, count.DeviceID = userID, deviceID
					t.Crypto.Machine().HandleOTKCounts(ctx, &count)
				}
			}
		}
	}
	lists := txn.DeviceLists
	if lists == nil {
		lists = txn.MSC3202DeviceLists
	}
	if lists != nil {
		for _, t := range b.tenants {
			if t.Crypto != nil {
				t.Crypto.Machine().HandleDeviceLists(ctx, lists, "")
			}
		}
	}
}

// queryHandler answers the homeserver's questions about users in our namespace.
type queryHandler struct{ b *Bridge }

func (q queryHandler) QueryAlias(alias id.RoomAlias) bool { return false }

// QueryUser says yes for the bot and the business identities, registering them, so a
// customer can DM a business identity before the service ever used it.
func (q queryHandler) QueryUser(userID id.UserID) bool {
	if userID != q.b.Config.BotUserID() && q.b.tenants[userID] == nil {
		return false
	}
	return q.b.AS.Intent(userID).EnsureRegistered(q.b.Log.WithContext(context.Background())) == nil
}
