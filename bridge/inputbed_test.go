package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/identity"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/linkcode"
	"github.com/contactcenter/contactcenter/routing"
)

// The customer of every input bed, on a server whose name staff must never see.
const (
	bedCustomer     = id.UserID("@bob:home.example")
	bedCustomerRoom = id.RoomID("!dm:home.example")
	bedDomain       = "biz.example"
)

// inputBed is one tenant, one customer and their open conversation on SQLite, with a
// fake homeserver for media: a customer's event goes through the inbox as the service
// handles it (drainInbox), and what the service queued is read from the outbox.
type inputBed struct {
	b        *Bridge
	t        *Tenant
	conv     *database.Conversation
	hs       *fakeMediaServer
	received int
}

func newInputBed(t *testing.T, purposes ...consent.Purpose) *inputBed {
	t.Helper()
	return newInputBedOn(t, "sqlite", purposes...)
}

// newInputBedOn is newInputBed on a database of the given type.
func newInputBedOn(t *testing.T, dbType string, purposes ...consent.Purpose) *inputBed {
	t.Helper()
	ctx := context.Background()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	db := dbtest.OpenConfig(t, dbtest.Config(t, dbType))
	hs := newFakeMediaServer(t)
	cfg := &config.Config{
		Homeserver: config.HomeserverConfig{Address: hs.URL, Domain: bedDomain},
		Appservice: config.AppserviceConfig{ID: "cc", ASToken: "as-token", HSToken: "hs-token",
			SenderLocalpart: "sender", BotUsername: "ccbot", GhostUsernameTemplate: "_cc_{{.}}"},
		Tenants: []config.Tenant{{ID: "acme", Name: "ACME", BusinessLocalpart: "acme", DisplayName: "ACME", Consent: purposes}},
	}
	b := New(cfg, log)
	b.DB = db
	b.Consent = consent.NewLedger(db.Database)
	b.StateStore = sqlstatestore.NewSQLStateStore(db.Database, dbutil.ZeroLogger(log), false)
	if err := firstErr(b.Consent.Upgrade(ctx), b.StateStore.Upgrade(ctx)); err != nil {
		t.Fatal(err)
	}
	b.AS = appservice.Create()
	b.AS.Registration = cfg.Registration()
	b.AS.HomeserverDomain = bedDomain
	b.AS.StateStore = b.StateStore
	if err := b.AS.SetHomeserverURL(hs.URL); err != nil {
		t.Fatal(err)
	}

	tc := &cfg.Tenants[0]
	router, err := routing.NewRouter(tc.RoutingWorkflow(), nil)
	if err != nil {
		t.Fatal(err)
	}
	userID := cfg.BusinessUserID(tc)
	client, err := mautrix.NewClient(hs.URL, userID, "as-token")
	if err != nil {
		t.Fatal(err)
	}
	tenant := &Tenant{Tenant: tc, UserID: userID, Client: client, b: b, router: router,
		names: identity.NewPseudonyms([]byte("input bed pseudonym key"), tc.ID)}
	b.tenants[userID] = tenant

	now := time.Now()
	if err = db.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: bedCustomerRoom, TenantID: tc.ID, Customer: bedCustomer, JoinedAt: now}); err != nil {
		t.Fatal(err)
	}
	conv, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: tc.ID, RoomID: bedCustomerRoom,
		Ghost: cfg.GhostUserID("g1"), DeskRoom: "!desk:" + bedDomain, SideRoom: "!side:" + bedDomain}, now)
	if err != nil {
		t.Fatal(err)
	}
	return &inputBed{b: b, t: tenant, conv: conv, hs: hs}
}

// send hands the service an event the customer sent in their room, as a transaction
// would, and lets the inbox handle it. It returns the event's ID.
func (bed *inputBed) send(t *testing.T, evtType event.Type, content any) id.EventID {
	t.Helper()
	evtID := bed.file(t, bedCustomer, evtType, content)
	bed.b.drainInbox(zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background()), bedCustomerRoom)
	return evtID
}

// file puts an event from sender into the customer room's inbox without handling it.
func (bed *inputBed) file(t *testing.T, sender id.UserID, evtType event.Type, content any) id.EventID {
	t.Helper()
	return bed.fileIn(t, bedCustomerRoom, sender, evtType, content)
}

// fileIn puts an event from sender into a room's inbox without handling it.
func (bed *inputBed) fileIn(t *testing.T, room id.RoomID, sender id.UserID, evtType event.Type, content any) id.EventID {
	t.Helper()
	bed.received++
	evtID := id.EventID(fmt.Sprintf("$customer%d", bed.received))
	raw, err := json.Marshal(content)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"type": evtType.Type, "event_id": evtID, "room_id": room,
		"sender": sender, "origin_server_ts": time.Now().UnixMilli(), "content": json.RawMessage(raw)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = bed.b.DB.Inbox.Insert(context.Background(), evtID.String(), room, database.SourceTransaction, body, time.Now()); err != nil {
		t.Fatal(err)
	}
	return evtID
}

// handled tells whether the inbox finished an event, and with what error if it failed.
func (bed *inputBed) handled(t *testing.T, evtID id.EventID) (done bool, lastError string) {
	t.Helper()
	var handledAt *int64
	var lastErr *string
	err := bed.b.DB.QueryRow(context.Background(), `SELECT handled_at, last_error FROM inbox WHERE event_key = $1`, evtID.String()).
		Scan(&handledAt, &lastErr)
	if err != nil {
		t.Fatal(err)
	}
	if lastErr != nil {
		lastError = *lastErr
	}
	return handledAt != nil, lastError
}

// queued is one event the service queued to send.
type queued struct {
	key     string
	room    id.RoomID
	evtType string
	content string
}

func (q queued) message() *event.MessageEventContent {
	var msg event.MessageEventContent
	_ = json.Unmarshal([]byte(q.content), &msg)
	return &msg
}

// outbox lists what the service queued, in order.
func (bed *inputBed) outbox(t *testing.T) []queued {
	t.Helper()
	rows, err := bed.b.DB.Query(context.Background(), `SELECT dedupe_key, room_id, event_type, content FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		if err = rows.Scan(&q.key, &q.room, &q.evtType, &q.content); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

// queuedFor is what the service queued for the event evtID into a room (its relays
// are keyed by origin, what it says by the event it answers).
func (bed *inputBed) queuedFor(t *testing.T, room id.RoomID, evtID id.EventID) []queued {
	t.Helper()
	var out []queued
	for _, q := range bed.outbox(t) {
		if q.room == room && strings.HasSuffix(q.key, "|"+evtID.String()) {
			out = append(out, q)
		}
	}
	return out
}

// staffCopies is everything queued into the conversation's desk and side rooms.
func (bed *inputBed) staffCopies(t *testing.T) []queued {
	t.Helper()
	var out []queued
	for _, q := range bed.outbox(t) {
		if q.room == bed.conv.DeskRoom || q.room == bed.conv.SideRoom {
			out = append(out, q)
		}
	}
	return out
}

// newCode makes a code of the kind the tenant's systems would, stored as they would.
func (bed *inputBed) newCode(t *testing.T, kind linkcode.Kind) string {
	t.Helper()
	code := linkcode.New(kind)
	stored := consent.Code{Kind: string(kind), Hash: linkcode.Hash(code), ExpiresAt: time.Now().Add(time.Hour)}
	if kind == linkcode.Link {
		if err := bed.b.Consent.UpsertCustomer(context.Background(), bed.t.ID, consent.Customer{AccountID: "B-7", Name: "Bob Builder"}); err != nil {
			t.Fatal(err)
		}
		stored.AccountID = "B-7"
	}
	if err := bed.b.Consent.SaveCode(context.Background(), bed.t.ID, stored); err != nil {
		t.Fatal(err)
	}
	return code
}

// fakeMedia is a file the fake homeserver serves: its bytes, or an error status, or
// a stream of generated bytes without a length (to see how much a client reads).
type fakeMedia struct {
	data        []byte
	contentType string
	status      int
	stream      int
}

// fakeUpload is a file uploaded to the fake homeserver.
type fakeUpload struct {
	contentType, name string
	data              []byte
}

// fakeMediaServer answers what copying media needs: downloads of the customer's
// files, uploads of the copies, and the ghost's registration.
type fakeMediaServer struct {
	*httptest.Server
	mu      sync.Mutex
	media   map[string]fakeMedia
	uploads []fakeUpload
	// streamed is how many bytes of a stream were written before the reader hung up;
	// streamDone is closed once it is known.
	streamed   int
	streamDone chan struct{}
}

func newFakeMediaServer(t *testing.T) *fakeMediaServer {
	s := &fakeMediaServer{media: map[string]fakeMedia{}, streamDone: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/v1/media/download/{server}/{id}", s.download)
	mux.HandleFunc("POST /_matrix/media/v3/upload", s.upload)
	mux.HandleFunc("POST /_matrix/client/v3/register", func(w http.ResponseWriter, r *http.Request) {
		writeFakeJSON(w, http.StatusOK, map[string]string{"user_id": r.URL.Query().Get("user_id")})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFakeJSON(w, http.StatusNotFound, map[string]string{"errcode": "M_UNRECOGNIZED", "error": r.URL.Path})
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// put stores a customer's file and returns its mxc URI on the customer's server.
func (s *fakeMediaServer) put(mediaID string, m fakeMedia) id.ContentURIString {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[mediaID] = m
	return id.ContentURIString("mxc://home.example/" + mediaID)
}

func (s *fakeMediaServer) lastUpload() (fakeUpload, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.uploads) == 0 {
		return fakeUpload{}, 0
	}
	return s.uploads[len(s.uploads)-1], len(s.uploads)
}

func (s *fakeMediaServer) download(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m, ok := s.media[r.PathValue("id")]
	s.mu.Unlock()
	switch {
	case !ok:
		writeFakeJSON(w, http.StatusNotFound, map[string]string{"errcode": "M_NOT_FOUND", "error": "Media not found"})
	case m.status != 0:
		writeFakeJSON(w, m.status, map[string]string{"errcode": "M_UNKNOWN", "error": "failing on purpose"})
	case m.stream > 0:
		w.Header().Set("Content-Type", "application/octet-stream")
		chunk := make([]byte, 32<<10)
		written := 0
		for written < m.stream {
			n, err := w.Write(chunk)
			written += n
			if err != nil {
				break
			}
		}
		s.mu.Lock()
		s.streamed = written
		s.mu.Unlock()
		close(s.streamDone)
	default:
		w.Header().Set("Content-Type", m.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
		_, _ = w.Write(m.data)
	}
}

func (s *fakeMediaServer) upload(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		writeFakeJSON(w, http.StatusBadRequest, map[string]string{"errcode": "M_UNKNOWN", "error": err.Error()})
		return
	}
	s.mu.Lock()
	s.uploads = append(s.uploads, fakeUpload{contentType: r.Header.Get("Content-Type"), name: r.URL.Query().Get("filename"), data: data})
	n := len(s.uploads)
	s.mu.Unlock()
	writeFakeJSON(w, http.StatusOK, map[string]string{"content_uri": fmt.Sprintf("mxc://%s/copy%d", bedDomain, n)})
}

func writeFakeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
