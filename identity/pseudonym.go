// Package identity holds the rules of who a customer appears to be to staff: a stable
// pseudonym for customers who did not consent to share their identity, and the opaque
// ID of the ghost that stands for them in staff rooms. It knows nothing of Matrix:
// customers are plain strings here.
package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Pseudonyms derives per-tenant names for customers. The same customer gets the same
// pseudonym and ghost ID at one tenant, and unrelated ones at another: each tenant has
// its own key, derived from the deployment's secret, so neither a tenant nor anyone
// comparing two tenants' staff rooms can link them.
type Pseudonyms struct {
	tenantKey []byte
}

// NewPseudonyms derives the tenant's key from the deployment's secret.
func NewPseudonyms(secret []byte, tenantID string) *Pseudonyms {
	return &Pseudonyms{tenantKey: mac(secret, "tenant:"+tenantID)}
}

// Name is what staff see for an anonymous customer, e.g. "Visitor 4F2A". Four hex
// digits keep it speakable; it is a label, not an identifier (collisions are possible
// and harmless, the ghost ID below is what tells customers apart).
func (p *Pseudonyms) Name(customer string) string {
	return "Visitor " + strings.ToUpper(hex.EncodeToString(mac(p.tenantKey, "name:"+customer)[:2]))
}

// GhostID is the opaque part of the ghost user's localpart: 20 hex digits, long enough
// never to collide in practice and impossible to reverse to the customer's Matrix ID.
func (p *Pseudonyms) GhostID(customer string) string {
	return hex.EncodeToString(mac(p.tenantKey, "ghost:"+customer)[:10])
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
