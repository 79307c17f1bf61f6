// Package bridge is the appservice: it takes transactions from the homeserver into a
// durable inbox, handles them in order per room, and sends through a durable outbox.
// It translates between Matrix and the domain packages; it holds no business rules.
package bridge

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"

	"github.com/lib/pq"

	"github.com/contactcenter/contactcenter/bridge/transport"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
)

func init() {
	// Without this the crypto store falls back to long IN (...) lists on PostgreSQL.
	crypto.PostgresArrayWrapper = pq.Array
}

// Bridge is one running service.
type Bridge struct {
	Config *config.Config
	Log    zerolog.Logger
	DB     *database.Database
	// Consent is the consent ledger and the one gate to customer context.
	Consent    *consent.Ledger
	AS         *appservice.AppService
	StateStore *sqlstatestore.SQLStateStore

	// HoldInbox makes the service store what the homeserver sends without handling
	// it (set before Start): for maintenance, and for tests of a crash between
	// receiving and handling.
	HoldInbox bool
	// RecordDelay holds back recording a room the service has just created (set
	// before Start): tests widen the moment in which the room exists on the
	// homeserver but not yet in the database, as a slow database would.
	RecordDelay time.Duration

	// tenants is written only by start-up, before tenantsReady is set; HTTP handlers
	// read it only after (see whenTenantsReady).
	tenants      map[id.UserID]*Tenant
	tenantsReady atomic.Bool

	// transport carries the inbox and the outbox (made when the database opens).
	transport     atomic.Pointer[transport.Transport]
	transportOnce sync.Once
	outbox        queueWaker
	// setupLease, with replicas, lets one of them at a time create a tenant's space
	// and control rooms (nil: one process).
	setupLease *transport.Lease
	// holder names this replica in leases ("" with one process).
	holder string
	// creationRun names this start of the service in room_creation (see roomcleanup.go).
	creationRun string

	listener net.Listener
	server   *http.Server
	ready    atomic.Bool
	stop     context.CancelFunc
	wg       sync.WaitGroup

	// limits keep one customer or server from crowding out the others.
	limits abuseLimits
	// calls is the voice relay and its live calls (nil: calls are off; calls.go).
	calls *callManager
	// dash is the supervisors' live dashboard (nil: off; dashboard.go).
	dash *dashboardWiring
	// reports are the contact log's glue: Prometheus (nil: off), step names, today's
	// figures (reporting.go, metrics.go, snapshot.go).
	reports reportingState

	// encryptedRooms caches the state store's answer for sends (encryptedrooms.go).
	encryptedRooms encryptedRooms
	// roomKinds remembers what rooms are to the service (roomkinds.go).
	roomKinds roomKinds
	// firstResponses remembers the conversations an agent has answered (roomkinds.go).
	firstResponses firstResponses
	// native relays typing and read receipts and applies staff presence (nil: off;
	// ephemeral.go).
	native atomic.Pointer[nativeRelay]

	// now is the clock; tests may replace it.
	now func() time.Time
}

// New prepares a bridge from a validated config. Nothing is started.
func New(cfg *config.Config, log zerolog.Logger) *Bridge {
	b := &Bridge{Config: cfg, Log: log, tenants: map[id.UserID]*Tenant{}, now: time.Now}
	b.outbox = queueWaker{b: b, wake: (*transport.Transport).WakeOutbox}
	b.initLimits()
	return b
}

// Exit codes for fatal start-up errors, so that operators and scripts can tell causes
// apart without reading logs.
const (
	ExitConfig            = 10
	ExitDatabase          = 11
	ExitDatabaseNotOwned  = 12
	ExitListen            = 13
	ExitHomeserverDown    = 14
	ExitUnknownToken      = 15
	ExitExclusive         = 16
	ExitEncryption        = 17
	ExitRegistrationWrite = 18
	// ExitCrossSigning: the business identity's cross-signing identity could not be
	// set up, so customers whose clients exclude insecure devices could not read it.
	ExitCrossSigning = 19
)

// StartError is a fatal start-up error with an exit code and a hint for the operator.
type StartError struct {
	Code int
	Hint string
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

func fatal(code int, hint string, err error) error {
	return &StartError{Code: code, Hint: hint, Err: err}
}

// Start runs the start-up steps in order and returns once the service is ready:
// database, listener, homeserver checks, business identities, queues, ready.
// Cancelling ctx aborts start-up, and later stops the background work (Stop too).
func (b *Bridge) Start(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(ctx)
	b.stop = cancel
	runCtx = b.Log.WithContext(runCtx)

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"database", b.openDatabase},
		{"metrics", b.startMetrics},
		{"appservice", b.initAppservice},
		{"dashboard", b.initDashboard},
		{"listener", b.listen},
		{"homeserver", b.checkHomeserver},
		{"staff profiles", b.seedStaffProfiles},
		{"tenants", b.startTenants},
		{"tenants ready", b.markTenantsReady},
		{"room cleanup", b.startRoomCleanup},
		{"voice", b.startVoice},
		{"queues", b.startQueues},
		{"typing and receipts", b.startNative},
		{"staff", b.startStaff},
		{"outbound", b.startOutboundLoop},
	}
	for _, step := range steps {
		start := time.Now()
		if err := step.fn(runCtx); err != nil {
			b.Stop()
			return err
		}
		b.Log.Debug().Str("step", step.name).Dur("took", time.Since(start)).Msg("Start-up step done")
	}
	b.ready.Store(true)
	b.AS.Ready = true
	b.Log.Info().Int("tenants", len(b.tenants)).Str("listen", b.listener.Addr().String()).Msg("Ready")
	return nil
}

// Stop stops everything started so far; it is safe to call more than once.
func (b *Bridge) Stop() {
	b.ready.Store(false)
	// Calls are hung up while the outbox still runs, so their hangups can go out.
	b.stopVoice()
	if b.stop != nil {
		b.stop()
	}
	if b.server != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.server.Shutdown(shutdownCtx)
		cancel()
	}
	for _, t := range b.tenants {
		t.stopSync()
	}
	b.wg.Wait()
	if b.DB != nil {
		_ = b.DB.Close()
		b.DB = nil
	}
}

// roomCreated is called between creating a room and recording it.
func (b *Bridge) roomCreated(ctx context.Context) {
	if b.RecordDelay > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(b.RecordDelay):
		}
	}
}

// Addr is the listener's address (useful when the config asked for port 0).
func (b *Bridge) Addr() string { return b.listener.Addr().String() }

func (b *Bridge) openDatabase(ctx context.Context) error {
	db, err := openDatabase(ctx, b.Config, b.Log)
	if err != nil {
		return err
	}
	b.DB = db
	b.queues()
	b.Consent = consent.NewLedger(db.Database)
	if err = b.Consent.Upgrade(ctx); err != nil {
		return fatal(ExitDatabase, "the consent tables could not be upgraded", err)
	}
	b.StateStore = sqlstatestore.NewSQLStateStore(db.Database, dbutil.ZeroLogger(b.Log.With().Str("db_section", "matrix_state").Logger()), false)
	if err = b.StateStore.Upgrade(ctx); err != nil {
		return fatal(ExitDatabase, "the Matrix state store could not be upgraded", err)
	}
	return nil
}

// openDatabase opens the service's database and brings its own tables up to date.
func openDatabase(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*database.Database, error) {
	uri := cfg.Database.URI
	if cfg.Database.Type == "sqlite" {
		uri = cfg.ResolvePath(uri)
	}
	db, err := database.Open(database.Config{
		Type: cfg.Database.Type, URI: uri,
		MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns,
	}, log)
	if err != nil {
		return nil, fatal(ExitDatabase, "check database.type and database.uri", err)
	}
	if err = db.Upgrade(ctx); err != nil {
		_ = db.Close()
		if errors.Is(err, database.ErrNotOwned) {
			return nil, fatal(ExitDatabaseNotOwned, "give the service a database of its own; never share the homeserver's", err)
		}
		return nil, fatal(ExitDatabase, "the database could not be upgraded; is it reachable and writable?", err)
	}
	return db, nil
}

func (b *Bridge) initAppservice(ctx context.Context) error {
	as := appservice.Create()
	as.Log = b.clientLog(b.Config.BotUserID())
	as.Registration = b.Config.Registration()
	as.HomeserverDomain = b.Config.Homeserver.Domain
	if err := as.SetHomeserverURL(b.Config.Homeserver.Address); err != nil {
		return fatal(ExitConfig, "homeserver.address must be a URL", err)
	}
	keepConnections(as.HTTPClient)
	b.timeRequests(as.HTTPClient)
	as.StateStore = b.StateStore
	as.QueryHandler = queryHandler{b}
	as.UserAgent = mautrix.DefaultUserAgent + " contactcenter"
	b.AS = as
	return nil
}

func (b *Bridge) listen(ctx context.Context) error {
	api, err := b.contextAPI()
	if err != nil {
		return fatal(ExitConfig, "check the tenants' api_keys: each key belongs to one tenant", err)
	}
	ln, err := net.Listen("tcp", b.Config.Appservice.Listen)
	if err != nil {
		return fatal(ExitListen, "is another process using appservice.listen?", err)
	}
	b.listener = limitListener(ln, b.Config.Appservice.MaxConnections)
	b.server = newHTTPServer(b.routes(api), b.Config.Appservice.IdleTimeout)
	if b.dash != nil {
		// Dashboard streams never go idle: Shutdown would wait for them until it times out.
		b.server.RegisterOnShutdown(b.dash.server.Close)
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.server.Serve(b.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.Log.Error().Err(err).Msg("HTTP server stopped")
		}
	}()
	return nil
}

// markTenantsReady lets HTTP handlers read the tenants: start-up writes them no more.
func (b *Bridge) markTenantsReady(context.Context) error {
	b.tenantsReady.Store(true)
	return nil
}

// Ready tells whether start-up has completed.
func (b *Bridge) Ready() bool { return b.ready.Load() }

// TenantByID returns a running tenant by its ID, or nil.
func (b *Bridge) TenantByID(tenantID string) *Tenant {
	for _, t := range b.tenants {
		if t.ID == tenantID {
			return t
		}
	}
	return nil
}

// isOurs tells whether a user is the bot, a business identity or a ghost: events they
// send are the service's own and are never handled as input.
func (b *Bridge) isOurs(userID id.UserID) bool {
	localpart, server, err := userID.Parse()
	if err != nil || server != b.Config.Homeserver.Domain {
		return false
	}
	return userID == b.Config.BotUserID() || b.tenants[userID] != nil || b.Config.IsGhostLocalpart(localpart)
}
