package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"
)

// Session is a signed-in dashboard viewer.
type Session struct {
	Tenant  string
	UserID  id.UserID
	Role    Role
	Expires time.Time
}

// Viewer is who the session's snapshots are taken for.
func (s Session) Viewer() Viewer {
	if s.Role == RoleSupervisor {
		return Viewer{Role: RoleSupervisor}
	}
	return Viewer{UserID: s.UserID.String(), Role: s.Role}
}

// A token is 16 random bytes that name its entry and 32 secret random bytes (256
// bits), base64url. Only the secret's SHA-256 is kept, and it is compared in constant
// time, so neither a copy of the memory nor response timing gives a token away.
const (
	tokenIDLen     = 16
	tokenSecretLen = 32
)

var errBadToken = errors.New("unknown or expired token")

type entry[T any] struct {
	secret  [32]byte // SHA-256 of the token's secret part
	expires time.Time
	value   T
}

// tokenTable holds entries by token. It is safe for concurrent use.
type tokenTable[T any] struct {
	mu        sync.Mutex
	byID      map[string]*entry[T]
	max       int
	lastSweep time.Time
}

func newTokenTable[T any](max int) *tokenTable[T] {
	return &tokenTable[T]{byID: map[string]*entry[T]{}, max: max}
}

// add stores value under a new token until expires.
func (t *tokenTable[T]) add(value T, expires, now time.Time) (string, error) {
	var raw [tokenIDLen + tokenSecretLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	key := hex.EncodeToString(raw[:tokenIDLen])
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastSweep) > time.Minute || len(t.byID) >= t.max {
		t.sweepLocked(now)
	}
	if len(t.byID) >= t.max {
		return "", errors.New("too many open sessions")
	}
	t.byID[key] = &entry[T]{secret: sha256.Sum256(raw[tokenIDLen:]), expires: expires, value: value}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

func (t *tokenTable[T]) sweepLocked(now time.Time) {
	for k, e := range t.byID {
		if !now.Before(e.expires) {
			delete(t.byID, k)
		}
	}
	t.lastSweep = now
}

// find returns the token's entry; take also removes it (a one-time token is spent by
// its first use, valid or expired).
func (t *tokenTable[T]) find(token string, now time.Time, take bool) (T, time.Time, error) {
	var zero T
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenIDLen+tokenSecretLen {
		return zero, time.Time{}, errBadToken
	}
	key := hex.EncodeToString(raw[:tokenIDLen])
	secret := sha256.Sum256(raw[tokenIDLen:])
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byID[key]
	if !ok || subtle.ConstantTimeCompare(e.secret[:], secret[:]) != 1 {
		return zero, time.Time{}, errBadToken
	}
	if take || !now.Before(e.expires) {
		delete(t.byID, key)
	}
	if !now.Before(e.expires) {
		return zero, time.Time{}, errBadToken
	}
	return e.value, e.expires, nil
}

// remove forgets a token if it is valid.
func (t *tokenTable[T]) remove(token string, now time.Time) {
	_, _, _ = t.find(token, now, true)
}

// link is what a one-time link signs in as.
type link struct {
	Tenant string
	UserID id.UserID
}

// maxTokens bounds each table's memory (about 200 bytes an entry).
const maxTokens = 100_000
