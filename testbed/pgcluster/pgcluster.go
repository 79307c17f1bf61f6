// Package pgcluster starts throwaway PostgreSQL clusters for tests.
//
// A cluster listens only on a unix socket in its own directory, runs with
// durability switched off (fsync, synchronous_commit, full_page_writes) and
// is removed again by Stop. Use Shared to get one cluster per test process
// and CreateDatabase to give each test its own database.
package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq" // driver for CreateDatabase and readiness checks
)

// Cluster is a running PostgreSQL server. The superuser is "postgres",
// authentication is "trust".
type Cluster struct {
	Dir       string // root directory: data/ and, usually, the socket
	SocketDir string // directory holding .s.PGSQL.<Port>
	Port      int    // only names the socket; nothing listens on TCP

	bindir   string
	cred     *syscall.Credential // non-nil when running as root
	cmd      *exec.Cmd
	log      *tailBuffer
	exited   chan struct{}
	stopOnce sync.Once
	stopErr  error
	extraDir string // separate socket dir (when Dir is too long), removed on Stop
	settings []string
}

// DefaultPort names the socket. Each cluster has its own socket directory,
// so clusters never collide on it.
const DefaultPort = 5432

// Start runs initdb in a new temporary directory (or in dir, if non-empty)
// and starts postgres on a unix socket only. When running as root, initdb
// and postgres run as the "postgres" system user and the directories are
// chowned to it; every ancestor of dir must then be searchable by others.
// settings ("name=value") are passed to postgres after the cluster's own.
func Start(ctx context.Context, dir string, settings ...string) (*Cluster, error) {
	bindir, err := findBindir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Port: DefaultPort, bindir: bindir, log: &tailBuffer{max: 64 << 10}, settings: settings}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresCredential(); err != nil {
			return nil, err
		}
	}
	removeStale()
	if dir == "" {
		if dir, err = os.MkdirTemp("", tempPrefix); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	c.Dir, c.SocketDir = dir, dir
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	// Record the owning process so that a later Start can remove the
	// directory if this process dies without calling Stop.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	// sun_path is 108 bytes: "/.s.PGSQL.5432.lock" must fit after the dir.
	if len(dir) > 80 {
		if c.extraDir, err = os.MkdirTemp("", "pgsock-"); err != nil {
			return nil, err
		}
		c.SocketDir = c.extraDir
	}
	if err := c.chown(c.Dir, c.SocketDir); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := c.command(ctx, "initdb", "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgcluster: initdb: %w\n%s", err, out)
	}
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// launch starts postgres on the cluster's data directory and waits until it answers.
func (c *Cluster) launch(ctx context.Context) error {
	args := []string{"-D", filepath.Join(c.Dir, "data"), "-k", c.SocketDir, "-p", strconv.Itoa(c.Port),
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB"}
	for _, setting := range c.settings {
		args = append(args, "-c", setting)
	}
	c.cmd = c.command(context.Background(), "postgres", args...)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	// Let postgres die with this process (SIGQUIT is its immediate shutdown).
	c.cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	exited := make(chan struct{})
	c.exited = exited
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	cmd := c.cmd
	go func() { cmd.Wait(); close(exited) }()
	return c.waitReady(ctx)
}

// Down stops the server (a fast shutdown: clients are cut off at once, committed data
// is kept, which with this cluster's fsync=off an immediate one would not promise), so
// that tests can see a service live through its database going away.
func (c *Cluster) Down(ctx context.Context) error {
	out, err := c.command(ctx, "pg_ctl", "stop", "-D", filepath.Join(c.Dir, "data"), "-m", "fast", "-w").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, out)
	}
	<-c.exited
	return nil
}

// Up starts the server again after Down.
func (c *Cluster) Up(ctx context.Context) error { return c.launch(ctx) }

// URI returns a lib/pq connection URI for database name.
func (c *Cluster) URI(name string) string {
	q := url.Values{"host": {c.SocketDir}, "port": {strconv.Itoa(c.Port)}, "sslmode": {"disable"}}
	return "postgres://postgres@/" + url.PathEscape(name) + "?" + q.Encode()
}

// CreateDatabase creates database name and returns a URI usable by lib/pq:
// postgres://postgres@/NAME?host=SOCKETDIR&port=PORT&sslmode=disable.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	db, err := sql.Open("postgres", c.URI("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	quoted := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+quoted); err != nil {
		return "", fmt.Errorf("pgcluster: create database %s: %w", name, err)
	}
	return c.URI(name), nil
}

// Stop shuts postgres down (pg_ctl stop -m immediate) and removes the
// directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	var errs []error
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.exited:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := c.command(ctx, "pg_ctl", "stop", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w").CombinedOutput()
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, out))
				c.cmd.Process.Kill()
			}
			select {
			case <-c.exited:
			case <-time.After(10 * time.Second):
				c.cmd.Process.Kill()
				<-c.exited
			}
		}
	}
	for _, d := range []string{c.Dir, c.extraDir} {
		if d != "" {
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Log returns the end of the server's log output.
func (c *Cluster) Log() string { return c.log.String() }

func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", c.URI("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err = db.PingContext(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("pgcluster: postgres exited: %v\n%s", c.cmd.ProcessState, c.log)
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: postgres not ready: %w (last: %v)\n%s", ctx.Err(), err, c.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bindir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.Env = append(cmd.Env, "HOME="+c.Dir, "USER=postgres", "LOGNAME=postgres")
	}
	return cmd
}

func (c *Cluster) chown(dirs ...string) error {
	if c.cred == nil {
		return nil
	}
	for _, d := range dirs {
		if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
		if err := checkSearchable(d); err != nil {
			return err
		}
	}
	return nil
}

// checkSearchable reports an ancestor of dir that the postgres user cannot
// enter (for example a 0700 directory made by t.TempDir).
func checkSearchable(dir string) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgcluster: %s is not searchable by the postgres user (mode %v); use a directory under %s or pass dir=\"\"", p, fi.Mode().Perm(), os.TempDir())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// findBindir asks pg_config, then falls back to the newest
// /usr/lib/postgresql/*/bin holding initdb.
func findBindir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgcluster: no PostgreSQL binaries (pg_config --bindir, /usr/lib/postgresql/*/bin); set PG_BINDIR")
}

func versionOf(bindir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return v
}

const (
	tempPrefix = "pgcluster-"
	ownerFile  = "owner.pid"
)

// removeStale deletes temporary clusters whose owning process is gone
// (a test binary killed before Stop). Their postgres died with the owner.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		if pm, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			first, _, _ := strings.Cut(string(pm), "\n")
			if p, err := strconv.Atoi(first); err == nil && syscall.Kill(p, 0) != syscall.ESRCH {
				continue // postgres is still shutting down
			}
		}
		os.RemoveAll(d)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
