// Package linkcode makes and recognises the one-time codes a customer types into a
// chat: link codes, which prove that the customer owns an account at the tenant (the
// tenant's site shows one to the logged-in customer), and visitor codes, which attach
// an anonymous visitor's browsing on the tenant's site to the conversation.
//
// A code reads like LINK-7K3Q-9P2M-4XZA: a prefix naming its kind, then twelve
// characters of Crockford base32 (digits and letters without I, L, O and U, so nothing
// is ambiguous when read aloud or copied by hand) in groups of four. Codes are stored
// only as their Hash, so a leaked database holds no usable code.
package linkcode

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Kind tells what a code is for.
type Kind string

const (
	// Link codes prove that the customer owns an account at the tenant.
	Link Kind = "link"
	// Visitor codes attach an anonymous visitor's browsing to a conversation.
	Visitor Kind = "visitor"
)

// Prefix is the word a code of this kind starts with, e.g. "LINK".
func (k Kind) Prefix() string {
	switch k {
	case Link:
		return "LINK"
	case Visitor:
		return "VISIT"
	}
	return ""
}

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool { return k.Prefix() != "" }

const (
	// alphabet is Crockford's base32: 32 symbols, so a random byte masked to five bits
	// picks each one with the same probability.
	alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// groups of groupLen characters: 12 characters of 5 bits are 60 bits, minus the
	// 0.05 bits the digit rule below costs. 60 rather than 40 bits because anyone on
	// any homeserver can type guesses into a chat, and a guessed link code would link
	// the guesser to someone else's account: at 60 bits even a million live codes and
	// a million guesses leave a one in a million chance.
	groups   = 3
	groupLen = 4
	// PayloadLen is the number of random characters in a code.
	PayloadLen = groups * groupLen
)

// New returns a fresh code of the given kind in its canonical form, e.g.
// "VISIT-7K3Q-9P2M-4XZA". It panics for an unknown kind, which is a programming error.
//
// Every code holds at least one of the digits 2 to 9 (about 3% of random draws do
// not and are drawn again): Find requires one, which keeps ordinary sentences such as
// "visit this page when you can" from being taken for a code, and these digits have
// no look-alike letter a customer could type instead.
func New(kind Kind) string {
	if !kind.Valid() {
		panic(fmt.Sprintf("linkcode: unknown kind %q", kind))
	}
	var random [PayloadLen]byte
	payload := make([]byte, PayloadLen)
	for {
		rand.Read(random[:]) // never returns an error: it crashes the program instead
		for i, b := range random {
			payload[i] = alphabet[b&31]
		}
		if hasPlainDigit(payload) {
			return canonical(kind, payload)
		}
	}
}

// Hash is what is stored instead of a code: the hex SHA-256 of its canonical form (as
// New, Find and Parse return it). The prefix is part of what is hashed, so a link code
// and a visitor code never share a hash.
func Hash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// canonical writes the code as PREFIX-XXXX-XXXX-XXXX.
func canonical(kind Kind, payload []byte) string {
	var b strings.Builder
	b.Grow(len(kind.Prefix()) + PayloadLen + groups)
	b.WriteString(kind.Prefix())
	for g := range groups {
		b.WriteByte('-')
		b.Write(payload[g*groupLen : (g+1)*groupLen])
	}
	return b.String()
}

// hasPlainDigit reports whether the payload holds one of the digits 2 to 9, which
// unlike 0 and 1 have no letter that stands for them.
func hasPlainDigit(payload []byte) bool {
	for _, c := range payload {
		if c >= '2' && c <= '9' {
			return true
		}
	}
	return false
}
