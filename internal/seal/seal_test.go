package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealRoundTripAndRefusals(t *testing.T) {
	key := []byte("a pickle key of the config, long enough")
	sealed, err := Seal(key, "cross-signing", []byte("seeds"), []byte("@acme:example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("seeds")) {
		t.Fatal("plaintext visible in the sealed value")
	}
	plain, err := Open(key, "cross-signing", sealed, []byte("@acme:example.com"))
	if err != nil || string(plain) != "seeds" {
		t.Fatalf("open: %q, %v", plain, err)
	}
	again, _ := Seal(key, "cross-signing", []byte("seeds"), []byte("@acme:example.com"))
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of the same secret are equal: the nonce is not random")
	}
	for name, try := range map[string]func() ([]byte, error){
		"other key": func() ([]byte, error) {
			return Open([]byte("another key"), "cross-signing", sealed, []byte("@acme:example.com"))
		},
		"other purpose": func() ([]byte, error) { return Open(key, "something else", sealed, []byte("@acme:example.com")) },
		"other owner":   func() ([]byte, error) { return Open(key, "cross-signing", sealed, []byte("@globex:example.com")) },
		"damaged": func() ([]byte, error) {
			bad := bytes.Clone(sealed)
			bad[len(bad)-1] ^= 1
			return Open(key, "cross-signing", bad, []byte("@acme:example.com"))
		},
		"truncated": func() ([]byte, error) { return Open(key, "cross-signing", sealed[:5], []byte("@acme:example.com")) },
	} {
		if _, err := try(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
	if _, err := Seal(nil, "x", []byte("y"), nil); err == nil {
		t.Error("sealing with an empty key succeeded")
	}
}
