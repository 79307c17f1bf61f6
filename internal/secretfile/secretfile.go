// Package secretfile writes files that hold secrets (tokens, keys, backups): readable
// by their owner alone, and replaced whole, so no reader ever sees one half written
// or with wider rights, whatever file was there before.
package secretfile

import (
	"os"
	"path/filepath"
)

// Mode is the permission of every secret file.
const Mode os.FileMode = 0o600

// Write replaces path with data through a fresh temporary file in the same folder.
func Write(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file 0600 already; Chmod says so for umask-free certainty.
	if err = tmp.Chmod(Mode); err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Restrict narrows an existing file to Mode (a missing file is no error).
func Restrict(path string) error {
	err := os.Chmod(path, Mode)
	if os.IsNotExist(err) {
		return nil
	}
	return err
}
