package dashboard

import (
	"encoding/base64"
	"testing"
	"time"
)

func TestTokensAreLongRandomAndChecked(t *testing.T) {
	table := newTokenTable[string](10)
	now := baseTime
	a, err := table.add("a", now.Add(time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := table.add("b", now.Add(time.Hour), now)
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw)-tokenIDLen < 32 {
		t.Fatalf("token %q: %d secret bytes (want at least 32, 256 bits), %v", a, len(raw)-tokenIDLen, err)
	}
	if a == b {
		t.Fatal("two tokens alike")
	}
	if v, _, err := table.find(a, now, false); err != nil || v != "a" {
		t.Fatalf("find a: %q %v", v, err)
	}
	// The right entry with a wrong secret: one bit flipped in the secret part.
	raw[len(raw)-1] ^= 1
	forged := base64.RawURLEncoding.EncodeToString(raw)
	if _, _, err := table.find(forged, now, false); err == nil {
		t.Fatal("a token with a wrong secret was accepted")
	}
	for _, junk := range []string{"", "x", a[:len(a)-2], a + "AA", "!!!!"} {
		if _, _, err := table.find(junk, now, false); err == nil {
			t.Fatalf("junk token %q accepted", junk)
		}
	}
	// Still valid after the forgery attempts; gone once expired.
	if _, _, err := table.find(a, now.Add(59*time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := table.find(a, now.Add(time.Hour), false); err == nil {
		t.Fatal("expired token accepted")
	}
}

func TestOneTimeTokensWorkOnce(t *testing.T) {
	table := newTokenTable[link](10)
	now := baseTime
	tok, _ := table.add(link{Tenant: "acme", UserID: sam}, now.Add(time.Minute), now)
	if l, _, err := table.find(tok, now, true); err != nil || l.UserID != sam {
		t.Fatalf("first use: %+v %v", l, err)
	}
	if _, _, err := table.find(tok, now, true); err == nil {
		t.Fatal("second use accepted")
	}
	expired, _ := table.add(link{Tenant: "acme", UserID: sam}, now.Add(time.Minute), now)
	if _, _, err := table.find(expired, now.Add(time.Minute), true); err == nil {
		t.Fatal("expired link accepted")
	}
}

func TestTokenTableIsBounded(t *testing.T) {
	table := newTokenTable[int](3)
	now := baseTime
	for i := range 3 {
		if _, err := table.add(i, now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := table.add(4, now.Add(time.Minute), now); err == nil {
		t.Fatal("a full table took a fourth token")
	}
	// Expired entries make room.
	if _, err := table.add(4, now.Add(2*time.Minute), now.Add(time.Minute)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}
