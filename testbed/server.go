package testbed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// readyTimeout bounds a server start when the caller's context has no deadline. A healthy
// start takes about half a second; this only turns a hang into an error with the log.
const readyTimeout = 30 * time.Second

// stopGrace is how long a server gets to shut down on SIGTERM before it is killed.
const stopGrace = 5 * time.Second

// Server is one Dendrite process with its own directory, keys, databases and ports.
type Server struct {
	Name         string // "customer", "business", or a SlowServer's name
	URL          string // client-server API, http://127.0.0.1:<client port>
	ServerName   string // "localhost:<federation port>": the port in the name is the federation port
	SharedSecret string // client_api.registration_shared_secret
	Dir          string

	binDir     string
	files      serverFiles
	clientPort int
	fedPort    int // where Dendrite binds federation HTTPS: the port in ServerName unless a proxy holds that one

	mu        sync.Mutex
	proc      *process // nil when not started or stopped
	runOffset int64    // size of the console file when the latest run started

	adminMu sync.Mutex
	admin   *Account // the admin user, once registered (adminAccount)
}

// process is one run of the dendrite binary.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // valid after done is closed
}

// LogPath returns Dendrite's own log file. Dendrite logs to D/log/, not to stdout.
func (s *Server) LogPath() string { return s.files.logFile() }

// Running reports whether the server's process is alive (not whether it answers).
func (s *Server) Running() bool {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// startAttempts bounds how often Start relaunches a server that crashed while starting.
// Dendrite 0.13.8 can panic with a nil *query.Queryer when it restarts with room events
// its federation API had not yet consumed (e.g. stopped right after a federated join):
// the consumer starts before the roomserver is wired up. It is a race, and the next run
// processes the pending event, so a relaunch is the fix.
const startAttempts = 10

// Start starts the server with its existing config, data and ports, and returns once
// the client API answers; a run that panics while starting is relaunched (see
// startAttempts). It is an error to start a running server.
func (s *Server) Start(ctx context.Context) error {
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if err = s.launch(); err != nil {
			return err
		}
		if err = s.waitReady(ctx); err == nil {
			return nil
		}
		_ = s.Stop(context.Background())
		if ctx.Err() != nil || !bytes.Contains(s.lastRunOutput(), []byte("\npanic: ")) {
			break
		}
	}
	return err
}

func (s *Server) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		select {
		case <-s.proc.done:
		default:
			return fmt.Errorf("testbed: %s server is already running", s.Name)
		}
	}
	console, err := os.OpenFile(s.files.consoleFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if fi, err := console.Stat(); err == nil {
		s.runOffset = fi.Size()
	}
	cmd := exec.Command(filepath.Join(s.binDir, "dendrite"),
		"-config", s.files.config(),
		"-http-bind-address", "127.0.0.1:"+strconv.Itoa(s.clientPort),
		"-https-bind-address", "127.0.0.1:"+strconv.Itoa(s.fedPort),
		"-tls-cert", s.files.tlsCert(), "-tls-key", s.files.tlsKey(),
		"-really-enable-open-registration")
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		_ = console.Close()
		return fmt.Errorf("testbed: start %s server: %w", s.Name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = console.Close()
		close(p.done)
	}()
	s.proc = p
	return nil
}

// waitReady polls /_matrix/client/versions until it answers 200, the process exits, or
// ctx (or readyTimeout) runs out. Errors carry the tail of the server's log.
func (s *Server) waitReady(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readyTimeout)
		defer cancel()
	}
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.answers(ctx, client) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("testbed: %s server exited during start-up (%v)%s", s.Name, p.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("testbed: %s server did not answer on %s: %w%s", s.Name, s.URL, ctx.Err(), s.logTail())
		case <-tick.C:
		}
	}
}

// answers reports whether the client API answers GET /_matrix/client/versions with 200.
func (s *Server) answers(ctx context.Context, client *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_matrix/client/versions", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop sends SIGTERM to the server's process group and kills the group if it has not
// exited after 5 s (or when ctx ends first). Stopping a stopped server is a no-op.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	pgid := p.cmd.Process.Pid // Setpgid makes the child the leader of its own group
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-p.done:
		// Dendrite starts no children, and once the leader is reaped its group id may
		// be reused, so a clean exit is not followed by a group kill.
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	return nil
}

// logTail returns the last lines of the server's logs, formatted for an error message.
// The console file is preferred because it also holds errors from before the config was
// loaded; the log file is the fallback.
func (s *Server) logTail() string {
	for _, path := range []string{s.files.consoleFile(), s.files.logFile()} {
		if t := tailFile(path, 30); t != "" {
			return "\n--- last lines of " + path + " ---\n" + t
		}
	}
	return "\n(no log output in " + s.files.logDir() + ")"
}

// tailFile returns the last n lines of the file at path (at most its last 16 KiB).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxTail = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > maxTail {
		_, _ = f.Seek(fi.Size()-maxTail, io.SeekStart)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// bindFailed reports whether the latest run failed because a port was taken, which is
// the one start-up failure worth retrying with other ports.
func (s *Server) bindFailed() bool {
	return bytes.Contains(s.lastRunOutput(), []byte("address already in use"))
}

// lastRunOutput returns what the latest run wrote to the console file.
func (s *Server) lastRunOutput() []byte {
	s.mu.Lock()
	off := s.runOffset
	s.mu.Unlock()
	f, err := os.Open(s.files.consoleFile())
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	data, _ := io.ReadAll(f)
	return data
}

// pid returns the process id of the running server, or 0.
func (s *Server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}
