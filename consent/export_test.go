package consent

import "time"

// SetClock makes the ledger read the time from now, so that tests can age what it keeps.
func SetClock(l *Ledger, now func() time.Time) { l.now = now }
