package bridge

import (
	"encoding/base64"
	"errors"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/olm"
)

// formatErrors are what decrypting says about the event itself: retrying cannot
// change a corrupted, replayed, withheld or misaddressed ciphertext.
var formatErrors = []error{
	crypto.ErrIncorrectEncryptedContentType, crypto.ErrDuplicateMessageIndex, crypto.ErrWrongRoom,
	crypto.ErrDeviceKeyMismatch, crypto.ErrCorruptedMegolmPayload, crypto.ErrUnsupportedAlgorithm,
	crypto.ErrGroupSessionWithheld,
	olm.ErrBadMAC, olm.ErrBadMessageFormat, olm.ErrBadSignature, olm.ErrWrongProtocolVersion,
	olm.ErrEmptyInput, olm.ErrBadMessageKeyID, olm.ErrUnknownMessageIndex, olm.ErrMsgIndexTooHigh,
	olm.ErrBadInput, olm.ErrInputToSmall,
}

// undecryptable tells whether a decryption error is about the event, so it will never
// decrypt. Anything else (the database or the network failing for a moment, a
// session not there yet) may heal, and the event is tried again.
func undecryptable(err error) bool {
	for _, target := range formatErrors {
		if errors.Is(err, target) {
			return true
		}
	}
	var b64 base64.CorruptInputError
	return errors.As(err, &b64)
}
