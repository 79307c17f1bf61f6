package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultExecutable is Debian's Chromium. The /usr/bin/chromium wrapper is
// avoided: it adds Google API keys and flags of its own.
const DefaultExecutable = "/usr/lib/chromium/chromium"

// ErrNoChromium is returned (wrapped) when Chromium's binary is missing.
var ErrNoChromium = errors.New("browser: chromium not found (apt-get install chromium; .ci/run does it)")

func executable(exe string) (string, error) {
	if exe == "" {
		exe = os.Getenv("CHROMIUM")
	}
	if exe == "" {
		exe = DefaultExecutable
	}
	if _, err := os.Stat(exe); err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoChromium, err)
	}
	return exe, nil
}

// flags are the command line of a call-test browser. Loopback candidates must be
// allowed: in a network namespace where only lo is up, Chromium otherwise
// gathers none and the call never connects. The fake microphone plays wav
// (looped); the page's <audio> element plays unmuted while the browser as a
// whole is muted.
func flags(wav string, extra []string) []string {
	f := []string{
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--use-fake-ui-for-media-stream",
		"--use-fake-device-for-media-stream",
		"--use-file-for-fake-audio-capture=" + wav,
		"--autoplay-policy=no-user-gesture-required",
		"--mute-audio",
		"--allow-loopback-in-peer-connection",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-dev-shm-usage",
		"--remote-debugging-port=0",
	}
	return append(f, extra...)
}

// chromium is a running Chromium, the leader of its own process group so that
// stopping it reaches every process it started.
type chromium struct {
	cmd      *exec.Cmd
	logPath  string
	endpoint string // DevTools WebSocket URL
	done     chan struct{}
}

func startChromium(ctx context.Context, exe, dir string, args []string) (*chromium, error) {
	profile := filepath.Join(dir, "profile")
	if err := os.RemoveAll(profile); err != nil { // every browser starts on a fresh profile
		return nil, err
	}
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, err
	}
	c := &chromium{logPath: filepath.Join(dir, "chromium.log"), done: make(chan struct{})}
	logFile, err := os.Create(c.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	c.cmd = exec.Command(exe, append(args, "--user-data-dir="+profile, "about:blank")...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("browser: start chromium: %w", err)
	}
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	// Chromium writes the DevTools port and path here once it listens.
	portFile := filepath.Join(profile, "DevToolsActivePort")
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(portFile)
		if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); err == nil && len(lines) == 2 {
			if port, perr := strconv.Atoi(lines[0]); perr == nil {
				c.endpoint = fmt.Sprintf("ws://127.0.0.1:%d%s", port, lines[1])
				return c, nil
			}
		}
		var why string
		select {
		case <-c.done:
			why = "chromium exited"
		case <-ctx.Done():
			why = ctx.Err().Error()
		case <-time.After(50 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			why = "no DevTools endpoint after 30 s"
		}
		_ = c.stop()
		return nil, fmt.Errorf("browser: %s; chromium's log ends with:\n%s", why, c.logTail())
	}
}

func (c *chromium) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop asks Chromium's process group to end, kills it after 5 s, and kills
// whatever of the group is left once the browser process has gone.
func (c *chromium) stop() error {
	pgid := c.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	var err error
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		err = errors.New("browser: chromium ignored SIGTERM for 5 s; killed")
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-c.done
	return err
}

// logTail returns the last lines Chromium wrote to stderr.
func (c *chromium) logTail() string {
	data, _ := os.ReadFile(c.logPath)
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
