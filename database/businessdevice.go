package database

import (
	"context"
	"database/sql"
	"errors"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	getBusinessDeviceQuery = `SELECT device_id, access_token FROM business_device WHERE user_id = $1`
	putBusinessDeviceQuery = `
		INSERT INTO business_device (user_id, device_id, access_token) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, access_token = excluded.access_token`
)

// BusinessDeviceQuery keeps the business identities' devices and access tokens.
type BusinessDeviceQuery struct {
	db *dbutil.Database
}

// Get returns a business identity's device and access token ("" if none is stored).
func (q *BusinessDeviceQuery) Get(ctx context.Context, userID id.UserID) (deviceID id.DeviceID, token string, err error) {
	err = q.db.QueryRow(ctx, getBusinessDeviceQuery, userID).Scan(&deviceID, &token)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return
}

// Put stores a business identity's device and access token.
func (q *BusinessDeviceQuery) Put(ctx context.Context, userID id.UserID, deviceID id.DeviceID, token string) error {
	_, err := q.db.Exec(ctx, putBusinessDeviceQuery, userID, deviceID, token)
	return err
}
