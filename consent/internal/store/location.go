package store

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	putLocationQuery = `
		INSERT INTO customer_location (tenant_id, subject, geo_uri, lat, lon, accuracy_m, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, subject) DO UPDATE SET geo_uri = excluded.geo_uri, lat = excluded.lat, lon = excluded.lon,
			accuracy_m = excluded.accuracy_m, at = excluded.at`
	getLocationQuery    = `SELECT geo_uri, lat, lon, accuracy_m, at FROM customer_location WHERE tenant_id = $1 AND subject = $2`
	deleteLocationQuery = `DELETE FROM customer_location WHERE tenant_id = $1 AND subject = $2`
)

// Location is a customer's last shared location.
type Location struct {
	GeoURI    string
	Lat, Lon  float64
	AccuracyM float64
	At        time.Time
}

func (l *Location) Scan(row dbutil.Scannable) (*Location, error) {
	var at int64
	if err := row.Scan(&l.GeoURI, &l.Lat, &l.Lon, &l.AccuracyM, &at); err != nil {
		return nil, err
	}
	l.At = fromMillis(at)
	return l, nil
}

// LocationQuery keeps each customer's last location at a tenant.
type LocationQuery struct {
	*dbutil.QueryHelper[*Location]
}

func newLocationQuery(db *dbutil.Database) *LocationQuery {
	return &LocationQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Location]) *Location { return &Location{} })}
}

// Put stores the customer's location, replacing the previous one.
func (q *LocationQuery) Put(ctx context.Context, tenantID, subject string, l *Location) error {
	return q.Exec(ctx, putLocationQuery, tenantID, subject, l.GeoURI, l.Lat, l.Lon, l.AccuracyM, millis(l.At))
}

// Get returns the customer's location, or nil.
func (q *LocationQuery) Get(ctx context.Context, tenantID, subject string) (*Location, error) {
	return q.QueryOne(ctx, getLocationQuery, tenantID, subject)
}

// Delete forgets the customer's location (location withdrawn).
func (q *LocationQuery) Delete(ctx context.Context, tenantID, subject string) error {
	return q.Exec(ctx, deleteLocationQuery, tenantID, subject)
}
