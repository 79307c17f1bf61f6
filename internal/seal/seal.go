// Package seal encrypts small secrets for storage at rest with a key from the config:
// AES-256-GCM under a key derived from the config key and a purpose, so one config key
// serves several kinds of secret without their ciphertexts being interchangeable.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// version prefixes every sealed value, so the format can change later.
const version = 1

// ErrOpen means a sealed value could not be opened: another key, another purpose or
// associated data, or damaged bytes.
var ErrOpen = errors.New("seal: cannot open (wrong key, or damaged)")

func aead(key []byte, purpose string) (cipher.AEAD, error) {
	derived, err := hkdf.Key(sha256.New, key, nil, "contactcenter seal v1: "+purpose, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(derived)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext; ad (for example the owner's ID) must be given again to open.
func Seal(key []byte, purpose string, plaintext, ad []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, errors.New("seal: empty key")
	}
	gcm, err := aead(key, purpose)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+gcm.NonceSize(), 1+gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	out[0] = version
	if _, err = rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return gcm.Seal(out, out[1:], plaintext, ad), nil
}

// Open decrypts what Seal made with the same key, purpose and ad.
func Open(key []byte, purpose string, sealed, ad []byte) ([]byte, error) {
	gcm, err := aead(key, purpose)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+gcm.NonceSize()+gcm.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := gcm.Open(nil, sealed[1:1+gcm.NonceSize()], sealed[1+gcm.NonceSize():], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
