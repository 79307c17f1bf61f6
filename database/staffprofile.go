package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/routing"
)

const (
	staffProfileColumns = `tenant_id, user_id, name, role, skills, languages, regions, capacity, wrap_up_ms, voice, source,
		version, updated_at, removed_at`
	getStaffProfileQuery     = `SELECT ` + staffProfileColumns + ` FROM staff_profile WHERE tenant_id = $1 AND user_id = $2`
	staffProfilesQuery       = `SELECT ` + staffProfileColumns + ` FROM staff_profile WHERE tenant_id = $1 AND removed_at IS NULL ORDER BY user_id`
	staffProfileVersionQuery = `SELECT COALESCE(MAX(version), 0) FROM staff_profile WHERE tenant_id = $1`
	// The next version of a tenant's staff, taken in the writing statement itself.
	nextStaffVersion = `(SELECT COALESCE(MAX(version), 0) + 1 FROM staff_profile WHERE tenant_id = $1)`
	// The config manages the rows it wrote (source 'config'): a seed adds who is new,
	// updates what the config changed and brings back who returns to it. A row the
	// admin API wrote or removed (source 'api') is the API's and stays as it is.
	seedStaffProfileQuery = `
		INSERT INTO staff_profile (` + staffProfileColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'config', ` + nextStaffVersion + `, $11, NULL)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET name = excluded.name, role = excluded.role, skills = excluded.skills,
			languages = excluded.languages, regions = excluded.regions, capacity = excluded.capacity,
			wrap_up_ms = excluded.wrap_up_ms, voice = excluded.voice, version = excluded.version,
			updated_at = excluded.updated_at, removed_at = NULL
		WHERE staff_profile.source = 'config' AND (staff_profile.removed_at IS NOT NULL OR staff_profile.name <> excluded.name
			OR staff_profile.role <> excluded.role OR staff_profile.skills <> excluded.skills
			OR staff_profile.languages <> excluded.languages OR staff_profile.regions <> excluded.regions
			OR staff_profile.capacity <> excluded.capacity OR staff_profile.wrap_up_ms <> excluded.wrap_up_ms
			OR staff_profile.voice <> excluded.voice)`
	// Whom the config no longer lists leaves the staff, if the config put them there.
	unseedStaffProfileQuery = `
		UPDATE staff_profile SET removed_at = $3, updated_at = $3, version = ` + nextStaffVersion + `
		WHERE tenant_id = $1 AND user_id = $2 AND source = 'config' AND removed_at IS NULL`
	putStaffProfileQuery = `
		INSERT INTO staff_profile (` + staffProfileColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'api', ` + nextStaffVersion + `, $11, NULL)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET name = excluded.name, role = excluded.role, skills = excluded.skills,
			languages = excluded.languages, regions = excluded.regions, capacity = excluded.capacity,
			wrap_up_ms = excluded.wrap_up_ms, voice = excluded.voice, source = excluded.source, version = excluded.version,
			updated_at = excluded.updated_at, removed_at = NULL`
	// Removed through the API, a member is the API's: the config no longer brings them back.
	removeStaffProfileQuery = `
		UPDATE staff_profile SET removed_at = $3, updated_at = $3, source = 'api', version = ` + nextStaffVersion + `
		WHERE tenant_id = $1 AND user_id = $2 AND removed_at IS NULL`
)

// StaffProfile is who a staff member is and what they can do, as the database holds
// it (the config seeds it; see 13-outbound.sql).
type StaffProfile struct {
	TenantID string
	routing.Staff
	// Voice: they take calls.
	Voice bool
	// Source is "config" (seeded) or "api" (last written through the admin API).
	Source    string
	Version   int64
	UpdatedAt time.Time
	// RemovedAt is when they were taken off the staff (zero: on it).
	RemovedAt time.Time
}

func (p *StaffProfile) Scan(row dbutil.Scannable) (*StaffProfile, error) {
	var skills, languages, regions string
	var wrapUp, updated int64
	var removed sql.NullInt64
	err := row.Scan(&p.TenantID, &p.UserID, &p.Name, &p.Role, &skills, &languages, &regions, &p.Capacity, &wrapUp,
		&p.Voice, &p.Source, &p.Version, &updated, &removed)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		text string
		into any
	}{{skills, &p.Skills}, {languages, &p.Languages}, {regions, &p.Regions}} {
		if err = json.Unmarshal([]byte(f.text), f.into); err != nil {
			return nil, fmt.Errorf("staff profile %s: %w", p.UserID, err)
		}
	}
	p.WrapUp = routing.Duration(time.Duration(wrapUp) * time.Millisecond)
	p.UpdatedAt, p.RemovedAt = time.UnixMilli(updated), optionalTime(removed)
	return p, nil
}

// StaffProfileQuery keeps the tenants' staff profiles.
type StaffProfileQuery struct {
	*dbutil.QueryHelper[*StaffProfile]
}

func newStaffProfileQuery(db *dbutil.Database) *StaffProfileQuery {
	return &StaffProfileQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*StaffProfile]) *StaffProfile {
		return &StaffProfile{}
	})}
}

func (p *StaffProfile) args() ([]any, error) {
	skills, err := json.Marshal(nonNilMap(p.Skills))
	if err != nil {
		return nil, err
	}
	languages, err := json.Marshal(nonNilSlice(p.Languages))
	if err != nil {
		return nil, err
	}
	regions, err := json.Marshal(nonNilSlice(p.Regions))
	if err != nil {
		return nil, err
	}
	return []any{p.TenantID, p.UserID, p.Name, p.Role, string(skills), string(languages), string(regions), p.Capacity,
		p.WrapUp.Std().Milliseconds(), p.Voice, p.UpdatedAt.UnixMilli()}, nil
}

func nonNilMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Get returns a profile, removed or not, or nil.
func (q *StaffProfileQuery) Get(ctx context.Context, tenantID, userID string) (*StaffProfile, error) {
	return noRow(q.QueryOne(ctx, getStaffProfileQuery, tenantID, userID))
}

// OfTenant lists the tenant's staff (not the removed), by user ID.
func (q *StaffProfileQuery) OfTenant(ctx context.Context, tenantID string) ([]*StaffProfile, error) {
	return q.QueryMany(ctx, staffProfilesQuery, tenantID)
}

// Version is the tenant's staff version: it grows with every change, so a replica
// that read the staff at one version knows whether to read them again.
func (q *StaffProfileQuery) Version(ctx context.Context, tenantID string) (int64, error) {
	var v int64
	err := q.GetDB().QueryRow(ctx, staffProfileVersionQuery, tenantID).Scan(&v)
	return v, err
}

// Seed brings the rows the config manages in line with the config: who is new is
// added, who changed is updated, who came back is restored, and whom it no longer
// lists is removed. Rows the admin API wrote or removed stay as they are. It returns
// how many rows changed.
func (q *StaffProfileQuery) Seed(ctx context.Context, tenantID string, staff []routing.Staff, now time.Time) (int, error) {
	changedRows := 0
	count := func(res sql.Result, err error) error {
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changedRows += int(n)
		return err
	}
	err := q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		listed := make(map[string]bool, len(staff))
		for _, s := range staff {
			listed[s.UserID] = true
			p := &StaffProfile{TenantID: tenantID, Staff: s, UpdatedAt: now}
			args, err := p.args()
			if err != nil {
				return err
			}
			if err = count(q.GetDB().Exec(ctx, seedStaffProfileQuery, args...)); err != nil {
				return err
			}
		}
		current, err := q.OfTenant(ctx, tenantID)
		if err != nil {
			return err
		}
		for _, p := range current {
			if !listed[p.UserID] {
				if err = count(q.GetDB().Exec(ctx, unseedStaffProfileQuery, tenantID, p.UserID, now.UnixMilli())); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return changedRows, err
}

// Put adds or replaces a profile (bringing back someone removed) and sets its
// version.
func (q *StaffProfileQuery) Put(ctx context.Context, p *StaffProfile) error {
	args, err := p.args()
	if err != nil {
		return err
	}
	return q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := q.Exec(ctx, putStaffProfileQuery, args...); err != nil {
			return err
		}
		stored, err := q.Get(ctx, p.TenantID, p.UserID)
		if err != nil {
			return err
		}
		p.Source, p.Version, p.RemovedAt = stored.Source, stored.Version, time.Time{}
		return nil
	})
}

// Remove takes someone off the tenant's staff; removed is false when they were not
// on it.
func (q *StaffProfileQuery) Remove(ctx context.Context, tenantID, userID string, at time.Time) (removed bool, err error) {
	res, err := q.GetDB().Exec(ctx, removeStaffProfileQuery, tenantID, userID, at.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
