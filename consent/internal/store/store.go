// Package store holds the consent tables and the customer context behind the consent
// gate, one file per table. It is internal to package consent on purpose: Go then
// refuses any other package that tries to read context without going through the gate.
package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/consent/internal/store/upgrades"
)

// VersionTable keeps the consent tables' schema version apart from the service's own.
const VersionTable = "cc_consent_version"

// Store is the consent tables. Its queries join the caller's transaction when the
// context carries one of the parent database (a dbutil child shares the key).
type Store struct {
	db        *dbutil.Database
	Records   *RecordQuery
	Policies  *PolicyQuery
	AccessLog *AccessLogQuery
	Customers *CustomerQuery
	Links     *LinkQuery
	Codes     *CodeQuery
	PageViews *PageViewQuery
	Visitors  *VisitorQuery
	Locations *LocationQuery
}

// New wraps the service's database; Upgrade creates the tables.
func New(parent *dbutil.Database) *Store {
	db := parent.Child(VersionTable, upgrades.Table, nil)
	return &Store{
		db:        db,
		Records:   newRecordQuery(db),
		Policies:  &PolicyQuery{db},
		AccessLog: newAccessLogQuery(db),
		Customers: newCustomerQuery(db),
		Links:     &LinkQuery{db},
		Codes:     &CodeQuery{db},
		PageViews: newPageViewQuery(db),
		Visitors:  &VisitorQuery{db},
		Locations: newLocationQuery(db),
	}
}

// Upgrade brings the consent tables to the latest version.
func (s *Store) Upgrade(ctx context.Context) error { return s.db.Upgrade(ctx) }

// Txn runs fn in one transaction, or inside the caller's.
func (s *Store) Txn(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.DoTxn(ctx, nil, fn)
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: !t.IsZero()}
}

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

func nullText(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// affected is how many rows a statement changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// noRows turns "no rows" into a zero result.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
