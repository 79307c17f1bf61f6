// Package database is the service's store: its own tables, one file per table, on
// PostgreSQL (lib/pq) or SQLite (pure Go), sharing one connection pool with mautrix's
// state store and crypto store, each under its own version table.
package database

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	_ "github.com/lib/pq"
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	_ "modernc.org/sqlite"

	"github.com/contactcenter/contactcenter/database/upgrades"
	"github.com/contactcenter/contactcenter/internal/secretfile"
)

// Owner is written into the database on first use; a database owned by another
// program is refused.
const Owner = "contactcenter"

type Database struct {
	*dbutil.Database
	Inbox        *InboxQuery
	Outbox       *OutboxQuery
	CustomerRoom *CustomerRoomQuery
	Conversation *ConversationQuery
	Staff        *StaffQuery
	// Participants are the staff in each conversation.
	Participants *ConversationStaffQuery
	EventMap     *EventMapQuery
	TenantSpace  *TenantSpaceQuery
	Devices      *BusinessDeviceQuery
	// CrossSigning holds the business identities' cross-signing identities.
	CrossSigning *CrossSigningQuery
	Prompts      *ConsentPromptQuery
	// Leases keep replicas from draining one room's queue at once.
	Leases *RoomLeaseQuery
	// Creations are rooms begun on the homeserver and not recorded yet.
	Creations *RoomCreationQuery
	// Outbound contact: requests, their decisions, triggers' proposals.
	Outbound          *OutboundQuery
	OutboundDecisions *OutboundDecisionQuery
	Proposals         *OutboundProposalQuery
	// StaffProfiles are who the staff are (the config seeds them; the admin API
	// changes them); Workflows the workflows set through the admin API.
	StaffProfiles *StaffProfileQuery
	Workflows     *TenantWorkflowQuery
	AdminKeys     *AdminKeyQuery
	Reveals       *RevealAuditQuery
	// ContactLog is every step of every conversation, which reports are computed from.
	ContactLog *ContactLogQuery
	// RedactionPositions are where each desk room was last read for redactions.
	RedactionPositions *RedactionPositionQuery
	// SharedLocations are the customers' events that shared their location.
	SharedLocations *SharedLocationQuery
}

// Config selects and tunes the database.
type Config struct {
	Type         string // "sqlite" or "postgres"
	URI          string // a file path for SQLite
	MaxOpenConns int
	MaxIdleConns int
}

// restrictSQLiteFiles makes the database file readable by the service alone before
// SQLite opens it: it holds device access tokens and customer data. SQLite gives its
// -wal and -shm files the main file's permissions; existing ones are narrowed too.
func restrictSQLiteFiles(uri string) error {
	path, _, _ := strings.Cut(strings.TrimPrefix(uri, "file:"), "?")
	if path == "" || path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, secretfile.Mode)
	if err != nil {
		return fmt.Errorf("creating the database file: %w", err)
	}
	_ = f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err = secretfile.Restrict(p); err != nil {
			return fmt.Errorf("restricting %s: %w", p, err)
		}
	}
	return nil
}

// ErrNotOwned is returned when the database belongs to another program.
var ErrNotOwned = errors.New("database belongs to another program")

// Open connects without touching the schema; call Upgrade next.
func Open(cfg Config, log zerolog.Logger) (*Database, error) {
	var driver, uri string
	switch cfg.Type {
	case "postgres":
		driver, uri = "postgres", cfg.URI
	case "sqlite":
		// WAL and a busy timeout let the state store, crypto store and our tables share
		// one file without "database is locked" errors; foreign keys are off by default.
		driver = "sqlite"
		uri = cfg.URI
		if !strings.HasPrefix(uri, "file:") {
			uri = "file:" + uri
		}
		sep := "?"
		if strings.Contains(uri, "?") {
			sep = "&"
		}
		uri += sep + "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(" + strconv.Itoa(autoCheckpointPages) + ")&_txlock=immediate"
		if err := restrictSQLiteFiles(cfg.URI); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown database type %q", cfg.Type)
	}
	pool, err := openPool(driver, uri)
	if err != nil {
		return nil, err
	}
	raw, err := dbutil.NewWithDB(pool, driver)
	if err != nil {
		return nil, err
	}
	raw.Owner = Owner
	// dbutil skips its check for Synapse and Dendrite tables unless told otherwise.
	raw.IgnoreForeignTables = false
	raw.VersionTable = "cc_version"
	raw.UpgradeTable = upgrades.Table
	raw.Log = dbutil.ZeroLogger(log.With().Str("db_section", "main").Logger())
	if cfg.MaxOpenConns > 0 {
		raw.RawDB.SetMaxOpenConns(cfg.MaxOpenConns)
	}
	if cfg.MaxIdleConns > 0 {
		raw.RawDB.SetMaxIdleConns(cfg.MaxIdleConns)
	}
	db := New(raw)
	if driver == "postgres" {
		if db.Inbox.urgent, err = openUrgent(uri, raw.Log); err != nil {
			_ = raw.Close()
			return nil, err
		}
	}
	return db, nil
}

// Close closes the pool and the connections kept for urgent writes.
func (db *Database) Close() error {
	var err error
	if db.Inbox.urgent != nil {
		err = db.Inbox.urgent.Close()
	}
	return errors.Join(db.Database.Close(), err)
}

// New wraps an open dbutil database.
func New(raw *dbutil.Database) *Database {
	eventMap := &EventMapQuery{raw}
	db := &Database{
		Database:     raw,
		Inbox:        &InboxQuery{queue: newQueue(raw, "inbox", "seq", "handled_at")},
		Outbox:       &OutboxQuery{queue: newQueue(raw, "outbox", "id", "sent_at"), copies: eventMap},
		CustomerRoom: newCustomerRoomQuery(raw),
		Conversation: newConversationQuery(raw),
		Staff:        newStaffQuery(raw),
		Participants: newConversationStaffQuery(raw),
		EventMap:     eventMap,
		TenantSpace:  newTenantSpaceQuery(raw),
		Devices:      newBusinessDeviceQuery(raw),
		CrossSigning: newCrossSigningQuery(raw),
		Prompts:      newConsentPromptQuery(raw),
		Leases:       &RoomLeaseQuery{raw},
		Creations:    newRoomCreationQuery(raw),

		Outbound:          newOutboundQuery(raw),
		OutboundDecisions: newOutboundDecisionQuery(raw),
		Proposals:         newOutboundProposalQuery(raw),
		StaffProfiles:     newStaffProfileQuery(raw),
		Workflows:         newTenantWorkflowQuery(raw),
		AdminKeys:         newAdminKeyQuery(raw),
		Reveals:           newRevealAuditQuery(raw),
		ContactLog:        newContactLogQuery(raw),

		RedactionPositions: newRedactionPositionQuery(raw),
		SharedLocations:    newSharedLocationQuery(raw),
	}
	// The conversation's state changes append their contact log entries.
	db.Conversation.log = db.ContactLog
	return db
}

// Upgrade brings the service's own tables to the latest version.
func (db *Database) Upgrade(ctx context.Context) error {
	err := db.Database.Upgrade(ctx)
	var notOwned dbutil.NotOwnedError
	if errors.As(err, &notOwned) || errors.Is(err, dbutil.ErrForeignTables) {
		return fmt.Errorf("%w: %w", ErrNotOwned, err)
	}
	return err
}
