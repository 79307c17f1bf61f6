package contextapi

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

func TestCheckMatrixUserID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"@alice:example.org", true},
		{"@a:b", true},
		{"@alice.smith_1=2-3/4+5:matrix.example.com", true},
		{"@Historical!Name:example.org", true},
		{"@alice:example.org:8448", true},
		{"@alice:127.0.0.1", true},
		{"@alice:[::1]", true},
		{"@alice:[2001:db8::1]:8448", true},
		{"@" + strings.Repeat("a", 242) + ":example.org", true}, // 255 bytes
		{"@" + strings.Repeat("a", 243) + ":example.org", false},
		{"", false},
		{"alice:example.org", false},
		{"#room:example.org", false},
		{"@alice", false},
		{"@:example.org", false},
		{"@alice:", false},
		{"@al ice:example.org", false},
		{"@alicé:example.org", false},
		{"@alice:exa_mple.org", false},
		{"@alice:example.org:", false},
		{"@alice:example.org:0", false},
		{"@alice:example.org:65536", false},
		{"@alice:example.org:+80", false},
		{"@alice:example.org:80a", false},
		{"@alice:example.org:123456", false},
		{"@alice:[::1", false},
		{"@alice:[1.2.3.4]", false},
		{"@alice:[fe80::1%eth0]", false},
		{"@alice:[::1]x", false},
		{"@alice:example.org/path", false},
	}
	for _, tt := range tests {
		if err := checkMatrixUserID(tt.id); (err == nil) != tt.ok {
			t.Errorf("checkMatrixUserID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
}

func TestCheckAccountID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"42", true},
		{"ACME:cust-42_x.y~z+w=v", true},
		{"ann@example.com", true},
		{"550e8400-e29b-41d4-a716-446655440000", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a b", false},
		{"a/b", false},
		{"a%2Fb", false},
		{"a?b", false},
		{"é", false},
		{"a\x00", false},
	}
	for _, tt := range tests {
		if err := checkAccountID(tt.id); (err == nil) != tt.ok {
			t.Errorf("checkAccountID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
}

func TestCheckPageURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://bank.example/", true},
		{"http://bank.example", true},
		{"HTTPS://Bank.Example/Mortgages?x=%20#y", true},
		{"https://[2001:db8::1]:8443/a", true},
		{"https://bank.example/ü", true},
		{"", false},
		{"bank.example/a", false},
		{"//bank.example/a", false},
		{"https:///a", false},
		{"https:bank.example", false},
		{"file:///etc/passwd", false},
		{"data:text/html,hi", false},
		{"https://user@bank.example/", false},
		{"https://bank.example/\x7f", false},
		{"https://bank.example/a\u00a0b", false},
		{"https://bank.example/%zz", false},
	}
	for _, tt := range tests {
		if err := checkPageURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("checkPageURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestKeys(t *testing.T) {
	format := regexp.MustCompile(`^cc_[0-9a-hjkmnp-tv-z]{32}$`)
	seen := map[string]bool{}
	for range 1000 {
		key := NewKey()
		if !format.MatchString(key) {
			t.Fatalf("NewKey() = %q", key)
		}
		if seen[key] {
			t.Fatalf("NewKey repeated %q", key)
		}
		seen[key] = true
	}
	const key = "cc_example"
	sum := sha256.Sum256([]byte(key))
	if HashKey(key) != sum {
		t.Error("HashKey is not SHA-256")
	}
	if KeyHashConfig(key) != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("KeyHashConfig = %s", KeyHashConfig(key))
	}
	hash, err := ParseKeyHash(KeyHashConfig(key))
	if err != nil || hash != sum {
		t.Errorf("ParseKeyHash(KeyHashConfig) = %x, %v", hash, err)
	}
	if hash, err := ParseKeyHash("sha256:" + strings.ToUpper(hex.EncodeToString(sum[:]))); err != nil || hash != sum {
		t.Errorf("ParseKeyHash(HEX) = %x, %v", hash, err)
	}
	for _, bad := range []string{"", "abc", "sha256:" + strings.Repeat("g", 64), KeyHashConfig(key) + "00", hex.EncodeToString(sum[:])} {
		if _, err := ParseKeyHash(bad); err == nil {
			t.Errorf("ParseKeyHash(%q) accepted", bad)
		}
	}
}
