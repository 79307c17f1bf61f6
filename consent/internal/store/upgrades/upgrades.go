// Package upgrades holds the versioned schema of the consent tables, kept under their
// own version table so the consent package owns them end to end.
package upgrades

import (
	"embed"

	"go.mau.fi/util/dbutil"
)

//go:embed *.sql
var files embed.FS

// Table is the upgrade table of the consent tables (version table "cc_consent_version").
var Table = dbutil.BuildUpgradeTable().WithFS(files).Finish()
