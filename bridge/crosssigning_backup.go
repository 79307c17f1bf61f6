package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/secretfile"
)

// backupFormat names the layout of a cross-signing backup file.
const backupFormat = "contactcenter-cross-signing-v1"

// crossSigningBackup is what -export-cross-signing writes: the business identities'
// cross-signing seeds in the clear, for the operator's safe. With them a fresh
// database gets the same identities back, and customers' clients see no change.
type crossSigningBackup struct {
	Format     string           `json:"format"`
	Identities []backupIdentity `json:"identities"`
}

type backupIdentity struct {
	UserID    id.UserID                `json:"user_id"`
	MasterKey string                   `json:"master_key"`
	Seeds     crypto.CrossSigningSeeds `json:"seeds"`
}

// ExportCrossSigning writes every stored cross-signing identity to path (mode 0600,
// written whole or not at all) and returns how many it wrote.
func ExportCrossSigning(ctx context.Context, cfg *config.Config, log zerolog.Logger, path string) (int, error) {
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.CrossSigning.List(ctx)
	if err != nil {
		return 0, err
	}
	backup := crossSigningBackup{Format: backupFormat}
	for _, row := range rows {
		seeds, err := openSeeds(cfg.Encryption.PickleKey, row)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", row.UserID, err)
		}
		backup.Identities = append(backup.Identities, backupIdentity{UserID: row.UserID, MasterKey: row.MasterKey, Seeds: *seeds})
	}
	data, err := json.MarshalIndent(backup, "", "  ")
	if err != nil {
		return 0, err
	}
	return len(rows), secretfile.Write(path, append(data, '\n'))
}

// ImportCrossSigning stores the identities of a backup file. An identity the database
// already holds is left as it is; a different one for the same user is refused, never
// replaced. It returns how many it stored.
func ImportCrossSigning(ctx context.Context, cfg *config.Config, log zerolog.Logger, path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var backup crossSigningBackup
	if err = json.Unmarshal(data, &backup); err != nil {
		return 0, fmt.Errorf("%s is not a cross-signing backup: %w", path, err)
	}
	if backup.Format != backupFormat {
		return 0, fmt.Errorf("%s: unknown format %q (want %q)", path, backup.Format, backupFormat)
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	stored := 0
	for _, ident := range backup.Identities {
		row, err := sealSeeds(cfg.Encryption.PickleKey, ident.UserID, ident.Seeds)
		if err != nil {
			return stored, fmt.Errorf("%s: %w", ident.UserID, err)
		}
		if row.MasterKey != ident.MasterKey {
			return stored, fmt.Errorf("%s: the seeds are of master key %s, the file says %s", ident.UserID, row.MasterKey, ident.MasterKey)
		}
		existing, err := db.CrossSigning.Get(ctx, ident.UserID)
		if err != nil {
			return stored, err
		}
		if existing != nil {
			if existing.MasterKey != row.MasterKey {
				return stored, fmt.Errorf("%s: the database already holds another identity (%s); import into a fresh database", ident.UserID, existing.MasterKey)
			}
			continue
		}
		row.CreatedAt = time.Now()
		if _, err = db.CrossSigning.Create(ctx, row); err != nil {
			return stored, err
		}
		stored++
	}
	return stored, nil
}
