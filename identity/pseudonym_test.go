package identity

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestPseudonymsAreStablePerTenantAndUnlinkableAcross(t *testing.T) {
	secret := []byte("deployment secret")
	acme, globex := NewPseudonyms(secret, "acme"), NewPseudonyms(secret, "globex")
	alice, bob := "@alice:customer.example", "@bob:customer.example"

	if acme.Name(alice) != NewPseudonyms(secret, "acme").Name(alice) || acme.GhostID(alice) != acme.GhostID(alice) {
		t.Fatal("the same customer must keep the same pseudonym at a tenant")
	}
	if acme.GhostID(alice) == acme.GhostID(bob) {
		t.Fatal("two customers share a ghost")
	}
	if acme.GhostID(alice) == globex.GhostID(alice) {
		t.Fatal("ghost IDs link a customer across tenants")
	}
	if acme.GhostID(alice) == NewPseudonyms([]byte("other secret"), "acme").GhostID(alice) {
		t.Fatal("the deployment secret must matter")
	}
	if !regexp.MustCompile(`^Visitor [0-9A-F]{4}$`).MatchString(acme.Name(alice)) {
		t.Fatalf("name %q", acme.Name(alice))
	}
	if !regexp.MustCompile(`^[0-9a-f]{20}$`).MatchString(acme.GhostID(alice)) {
		t.Fatalf("ghost ID %q", acme.GhostID(alice))
	}
	for _, leak := range []string{"alice", "customer", "example"} {
		if strings.Contains(acme.Name(alice)+acme.GhostID(alice), leak) {
			t.Fatalf("pseudonym leaks %q", leak)
		}
	}
}

// TestNamesSpreadAcrossTenants: over many customers, how often two tenants give one
// customer the same name is what chance predicts (1 in 65,536), not more.
func TestNamesSpreadAcrossTenants(t *testing.T) {
	acme, globex := NewPseudonyms([]byte("s"), "acme"), NewPseudonyms([]byte("s"), "globex")
	same, names := 0, map[string]bool{}
	for i := range 5000 {
		customer := fmt.Sprintf("@customer%d:customer.example", i)
		if acme.Name(customer) == globex.Name(customer) {
			same++
		}
		names[acme.Name(customer)] = true
	}
	if same > 3 {
		t.Fatalf("%d of 5000 customers share a name across tenants", same)
	}
	if len(names) < 4000 {
		t.Fatalf("only %d distinct names for 5000 customers", len(names))
	}
}
