// Package upgrades holds the versioned schema of the service's own tables.
package upgrades

import (
	"embed"

	"go.mau.fi/util/dbutil"
)

//go:embed *.sql
var files embed.FS

// Table is the upgrade table of the service's own tables (version table "cc_version").
var Table = dbutil.BuildUpgradeTable().WithFS(files).Finish()
