package contextapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Tenant is a business allowed to push context, with the SHA-256 hashes of its API
// keys (several, so a key can be rotated without downtime). Keys themselves are never
// configured: HashKey turns one into what goes here.
type Tenant struct {
	ID        string
	KeyHashes [][32]byte
}

// keyPrefix marks our keys so that a leaked one is recognisable by secret scanners.
const keyPrefix = "cc_"

// keyEncoding is lowercase Crockford base32: 20 random bytes make 32 characters.
var keyEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewKey returns a new random API key: "cc_" and 32 base32 characters (160 bits).
func NewKey() string {
	var random [20]byte
	rand.Read(random[:]) // never returns an error: it crashes the program instead
	return keyPrefix + keyEncoding.EncodeToString(random[:])
}

// HashKey is the SHA-256 of an API key, as a Tenant's KeyHashes hold it.
func HashKey(key string) [32]byte {
	return sha256.Sum256([]byte(key))
}

// keyHashPrefix names the hash in configuration files: "sha256:<64 hex digits>".
const keyHashPrefix = "sha256:"

// KeyHashConfig is how a configuration file holds a key: its hash, never the key.
func KeyHashConfig(key string) string {
	hash := HashKey(key)
	return keyHashPrefix + hex.EncodeToString(hash[:])
}

// ParseKeyHash reads a key hash as KeyHashConfig writes it.
func ParseKeyHash(s string) ([32]byte, error) {
	var hash [32]byte
	digits, ok := strings.CutPrefix(s, keyHashPrefix)
	if !ok {
		return hash, fmt.Errorf("key hash must start with %q", keyHashPrefix)
	}
	if len(digits) != 2*len(hash) {
		return hash, fmt.Errorf("key hash must be %d hex digits, got %d characters", 2*len(hash), len(digits))
	}
	if _, err := hex.Decode(hash[:], []byte(digits)); err != nil {
		return hash, fmt.Errorf("key hash is not hex: %w", err)
	}
	return hash, nil
}

// keyring finds the tenant of a presented key.
type keyring struct {
	hashes  [][32]byte
	tenants []string // tenants[i] owns hashes[i]
}

func newKeyring(tenants []Tenant) (keyring, error) {
	var k keyring
	ids := map[string]bool{}
	owner := map[[32]byte]string{}
	for i, t := range tenants {
		if t.ID == "" {
			return keyring{}, fmt.Errorf("tenant %d has no ID", i)
		}
		if ids[t.ID] {
			return keyring{}, fmt.Errorf("tenant %q is configured twice", t.ID)
		}
		ids[t.ID] = true
		for _, h := range t.KeyHashes {
			if h == ([32]byte{}) {
				return keyring{}, fmt.Errorf("tenant %q has an all-zero key hash", t.ID)
			}
			if other, ok := owner[h]; ok {
				return keyring{}, fmt.Errorf("tenants %q and %q share an API key", other, t.ID)
			}
			owner[h] = t.ID
			k.hashes = append(k.hashes, h)
			k.tenants = append(k.tenants, t.ID)
		}
	}
	return k, nil
}

// tenantOf compares the key's hash with every configured hash in constant time and
// without stopping at a match, so the time taken tells nothing about which tenant (or
// whether any) the key belongs to. Hashing first also makes the comparison's time
// independent of the key's length.
func (k keyring) tenantOf(key string) (string, bool) {
	presented := HashKey(key)
	match := -1
	for i := range k.hashes {
		eq := subtle.ConstantTimeCompare(presented[:], k.hashes[i][:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return "", false
	}
	return k.tenants[match], true
}

var errNoBearer = errors.New("missing Authorization: Bearer <API key> header")

// bearerKey reads the key from "Authorization: Bearer <key>" (scheme in any case).
func bearerKey(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errNoBearer
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return "", errNoBearer
	}
	return key, nil
}
