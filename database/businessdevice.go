package database

import (
	"context"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	getBusinessDeviceQuery = `SELECT user_id, device_id, access_token FROM business_device WHERE user_id = $1`
	putBusinessDeviceQuery = `
		INSERT INTO business_device (user_id, device_id, access_token) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, access_token = excluded.access_token`
)

// BusinessDevice is a business identity's device and its access token.
type BusinessDevice struct {
	UserID   id.UserID
	DeviceID id.DeviceID
	// AccessToken is the device's access token; never logged.
	AccessToken string
}

func (d *BusinessDevice) Scan(row dbutil.Scannable) (*BusinessDevice, error) {
	return dbutil.ValueOrErr(d, row.Scan(&d.UserID, &d.DeviceID, &d.AccessToken))
}

// BusinessDeviceQuery keeps the business identities' devices and access tokens.
type BusinessDeviceQuery struct {
	*dbutil.QueryHelper[*BusinessDevice]
}

func newBusinessDeviceQuery(db *dbutil.Database) *BusinessDeviceQuery {
	return &BusinessDeviceQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*BusinessDevice]) *BusinessDevice {
		return &BusinessDevice{}
	})}
}

// Get returns a business identity's device, or nil if none is stored.
func (q *BusinessDeviceQuery) Get(ctx context.Context, userID id.UserID) (*BusinessDevice, error) {
	return noRow(q.QueryOne(ctx, getBusinessDeviceQuery, userID))
}

// Put stores a business identity's device, replacing the one stored.
func (q *BusinessDeviceQuery) Put(ctx context.Context, d *BusinessDevice) error {
	return q.Exec(ctx, putBusinessDeviceQuery, d.UserID, d.DeviceID, d.AccessToken)
}
