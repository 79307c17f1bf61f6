// Package jsclient drives a real Matrix client, matrix-js-sdk (the SDK
// Element Web is built on), from Go tests. Each Client is one Node process
// running testclient/js/driver.mjs with one logged-in user, Rust crypto
// included, talking one JSON object per line over stdin/stdout.
//
// Set JSCLIENT_STDERR=1 to copy the driver's stderr to the test's stderr,
// and DRIVER_LOG=debug|info|warn|error to choose how much the SDK logs.
package jsclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultCallTimeout bounds a command that has no timeout of its own, when
// ctx has no earlier deadline.
const DefaultCallTimeout = 60 * time.Second

// Client is one matrix-js-sdk client in its own Node process. Its methods
// may be called from several goroutines at once.
type Client struct {
	UserID, DeviceID string // set by Login

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	wmu     sync.Mutex
	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan response
	stderr  *lineRing
	exited  chan struct{} // closed once stdout is drained and the process has exited
	exitErr error
}

type response struct {
	ID         int64           `json:"id"`
	OK         bool            `json:"ok"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error"`
	Errcode    string          `json:"errcode"`
	HTTPStatus int             `json:"httpStatus"`
}

// Error is a command that failed in the driver. Errcode and HTTPStatus are
// set when the failure was a Matrix error response.
type Error struct {
	Cmd        string
	Message    string
	Errcode    string
	HTTPStatus int
}

func (e *Error) Error() string {
	s := "jsclient: " + e.Cmd + ": " + e.Message
	if e.Errcode != "" {
		s += fmt.Sprintf(" (%s, HTTP %d)", e.Errcode, e.HTTPStatus)
	}
	return s
}

// Start runs Ensure, spawns `node driver.mjs` and waits for it to report
// ready. The driver's stderr is kept (last 50 lines) for error messages.
func Start(ctx context.Context) (*Client, error) {
	if err := Ensure(ctx); err != nil {
		return nil, err
	}
	dir, err := DriverDir()
	if err != nil {
		return nil, err
	}
	return StartDriver(ctx, dir, "driver.mjs")
}

// StartDriver spawns `node script` in dir, a script that speaks this package's
// protocol (one JSON command per stdin line, one answer per stdout line, id 0
// answered once ready), and waits for it to report ready. Other Node drivers
// (testclient/browser) reuse the protocol through Call.
func StartDriver(ctx context.Context, dir, script string) (*Client, error) {
	c := &Client{
		pending: map[int64]chan response{},
		stderr:  &lineRing{max: 50, tee: os.Getenv("JSCLIENT_STDERR") != ""},
		exited:  make(chan struct{}),
	}
	c.cmd = exec.Command("node", script)
	c.cmd.Dir = dir
	c.cmd.Stderr = c.stderr
	// The driver dies with the test process even if Close is never called.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("jsclient: start node: %w", err)
	}
	ready := make(chan response, 1)
	c.pending[0] = ready
	go c.readLoop(stdout)
	if _, err := c.await(ctx, "start", 0, ready, 30*time.Second); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// Call sends cmd with args to the driver and decodes its result into out (if
// non-nil); for drivers started with StartDriver. timeout is the command's own
// timeout (0: DefaultCallTimeout).
func (c *Client) Call(ctx context.Context, cmd string, args map[string]any, timeout time.Duration, out any) error {
	return c.call(ctx, cmd, args, timeout, out)
}

func (c *Client) readLoop(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var r response
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			c.stderr.Write([]byte("jsclient: bad line from driver: " + sc.Text() + "\n"))
			continue
		}
		c.mu.Lock()
		ch := c.pending[r.ID]
		delete(c.pending, r.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	err := c.cmd.Wait()
	c.mu.Lock()
	c.exitErr = fmt.Errorf("jsclient: driver exited (%v)", err)
	c.pending = nil
	c.mu.Unlock()
	close(c.exited)
}

// call sends a command and decodes its result into out (if non-nil).
// timeout is the command's own timeout (0: DefaultCallTimeout); the Go side
// waits a little longer so that the driver's own timeout error wins.
func (c *Client) call(ctx context.Context, cmd string, args map[string]any, timeout time.Duration, out any) error {
	c.mu.Lock()
	if c.pending == nil {
		err := c.exitErr
		c.mu.Unlock()
		return c.withStderr(err)
	}
	c.nextID++
	id := c.nextID
	ch := make(chan response, 1)
	c.pending[id] = ch
	c.mu.Unlock()

	msg := map[string]any{}
	for k, v := range args {
		msg[k] = v
	}
	msg["id"], msg["cmd"] = id, cmd
	line, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	_, err = c.stdin.Write(append(line, '\n'))
	c.wmu.Unlock()
	if err != nil {
		return c.withStderr(fmt.Errorf("jsclient: %s: write to driver: %w", cmd, err))
	}
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	} else {
		timeout += 5 * time.Second
	}
	raw, err := c.await(ctx, cmd, id, ch, timeout)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("jsclient: %s: decode result %s: %w", cmd, raw, err)
	}
	return nil
}

func (c *Client) await(ctx context.Context, cmd string, id int64, ch chan response, timeout time.Duration) (json.RawMessage, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	drop := func() {
		c.mu.Lock()
		if c.pending != nil {
			delete(c.pending, id)
		}
		c.mu.Unlock()
	}
	select {
	case r := <-ch:
		if !r.OK {
			return nil, &Error{Cmd: cmd, Message: r.Error, Errcode: r.Errcode, HTTPStatus: r.HTTPStatus}
		}
		return r.Result, nil
	case <-c.exited:
		select { // the answer may have arrived just before the exit
		case r := <-ch:
			if r.OK {
				return r.Result, nil
			}
			return nil, &Error{Cmd: cmd, Message: r.Error, Errcode: r.Errcode, HTTPStatus: r.HTTPStatus}
		default:
		}
		return nil, c.withStderr(fmt.Errorf("%s: %w", cmd, c.exitErr))
	case <-ctx.Done():
		drop()
		return nil, fmt.Errorf("jsclient: %s: %w", cmd, ctx.Err())
	case <-timer.C:
		drop()
		return nil, c.withStderr(fmt.Errorf("jsclient: %s: no answer from driver after %v", cmd, timeout))
	}
}

func (c *Client) withStderr(err error) error {
	if tail := c.stderr.String(); tail != "" {
		return fmt.Errorf("%w\ndriver stderr (last lines):\n%s", err, tail)
	}
	return err
}

// Stderr returns the last lines the driver wrote to stderr.
func (c *Client) Stderr() string { return c.stderr.String() }

// Close stops the client (the "stop" command) and waits for the process to
// exit, killing it after 5 s. It is safe to call more than once.
func (c *Client) Close() error {
	select {
	case <-c.exited:
		return nil
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.call(ctx, "stop", nil, 0, nil)
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-ctx.Done():
		c.kill()
		return c.withStderr(errors.New("jsclient: driver did not exit after stop; killed"))
	}
	if err != nil && !strings.Contains(err.Error(), "driver exited") {
		return err
	}
	return nil
}

func (c *Client) kill() {
	c.cmd.Process.Kill()
	c.stdin.Close()
	<-c.exited
}

// lineRing keeps the last max lines written to it.
type lineRing struct {
	mu      sync.Mutex
	max     int
	tee     bool
	lines   []string
	partial string
}

func (r *lineRing) Write(p []byte) (int, error) {
	if r.tee {
		os.Stderr.Write(p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	parts := strings.Split(r.partial+string(p), "\n")
	r.partial = parts[len(parts)-1]
	r.lines = append(r.lines, parts[:len(parts)-1]...)
	if over := len(r.lines) - r.max; over > 0 {
		r.lines = append([]string(nil), r.lines[over:]...)
	}
	return len(p), nil
}

func (r *lineRing) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.lines, "\n")
	if r.partial != "" {
		s += "\n" + r.partial
	}
	return strings.TrimLeft(s, "\n")
}
