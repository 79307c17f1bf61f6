package bridge

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"fmt"
	"testing"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/olm"
)

// A database or network blip while decrypting is retried; only what is wrong with the
// event itself gives the customer's message up.
func TestUndecryptableOnlyForTheEventsOwnFaults(t *testing.T) {
	retry := []error{
		sql.ErrConnDone, driver.ErrBadConn, context.DeadlineExceeded,
		fmt.Errorf("failed to get group session: %w", fmt.Errorf("database is locked (5) (SQLITE_BUSY)")),
		fmt.Errorf("x: %w", crypto.ErrNoSessionFound),
	}
	for _, err := range retry {
		if undecryptable(fmt.Errorf("decrypting: %w", err)) {
			t.Errorf("%v: given up, want a retry", err)
		}
	}
	permanentOnes := []error{
		crypto.ErrWrongRoom, crypto.ErrDuplicateMessageIndex, olm.ErrBadMAC, olm.ErrUnknownMessageIndex,
		crypto.ErrGroupSessionWithheld, base64.CorruptInputError(3),
	}
	for _, err := range permanentOnes {
		if !undecryptable(fmt.Errorf("decrypting: %w", err)) {
			t.Errorf("%v: retried, want given up", err)
		}
	}
}
