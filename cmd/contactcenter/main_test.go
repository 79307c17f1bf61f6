package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/contactcenter/contactcenter/contextapi"
)

// -new-api-key prints a key and the hash line the config takes, which must be the
// key's hash (so the key works once the line is in the config).
func TestNewAPIKeyPrintsKeyAndItsHash(t *testing.T) {
	var out bytes.Buffer
	printNewAPIKey(&out)
	m := regexp.MustCompile(`(?s)\n  (\S+)\n.*\n  - "(sha256:[0-9a-f]{64})"\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	if got := contextapi.KeyHashConfig(m[1]); got != m[2] {
		t.Fatalf("printed hash %s is not the key's (%s)", m[2], got)
	}
	if _, err := contextapi.ParseKeyHash(m[2]); err != nil {
		t.Fatal(err)
	}
}
