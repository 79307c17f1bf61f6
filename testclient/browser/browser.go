// Package browser drives a real browser for call tests: headless Chromium
// (Debian's chromium package) running a page that bundles matrix-js-sdk and
// places or answers calls with its MatrixCall, the code Element's legacy 1:1
// calls run on. Each Browser is one Chromium process with a fake microphone
// playing a sine tone, one page, and one Node process (driver.mjs, with
// playwright-core) that the Go side talks to over testclient/jsclient's
// line protocol.
//
// Set JSCLIENT_STDERR=1 to copy the driver's stderr (the page's console) to the
// test's stderr, and DRIVER_LOG=debug|info|warn|error to choose how much.
package browser

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

// Options shape a browser.
type Options struct {
	// ToneHz is the frequency of the sine the fake microphone plays; 440 when 0.
	ToneHz float64
	// Dir holds the profile, the tone's WAV file and the bundle; a temp dir that
	// Close removes when empty.
	Dir string
	// Executable is Chromium's binary; $CHROMIUM, else DefaultExecutable, when empty.
	Executable string
	// ExtraFlags are added to Chromium's command line.
	ExtraFlags []string
}

// Browser is one headless Chromium with the call page loaded. Its methods may
// be called from several goroutines at once.
type Browser struct {
	UserID, DeviceID string // set by Login
	ToneHz           float64

	dir       string
	removeDir bool
	chrome    *chromium
	srv       *http.Server
	drv       *jsclient.Client
	closeOnce sync.Once
	closeErr  error
}

// Start installs the npm packages if needed, bundles the page, serves it on
// 127.0.0.1, starts Chromium and loads the page in it.
func Start(ctx context.Context, opts Options) (*Browser, error) { return start(ctx, opts, true) }

// StartBlank starts Chromium and the driver like Start, but on a blank page and
// without building the call page: for tests of other pages, driven with Goto,
// WaitText, Eval and Screenshot.
func StartBlank(ctx context.Context, opts Options) (*Browser, error) { return start(ctx, opts, false) }

func start(ctx context.Context, opts Options, callPage bool) (b *Browser, err error) {
	if opts.ToneHz == 0 {
		opts.ToneHz = 440
	}
	exe, err := executable(opts.Executable)
	if err != nil {
		return nil, err
	}
	project, err := ProjectDir()
	if err != nil {
		return nil, err
	}
	if err := Ensure(ctx); err != nil {
		return nil, err
	}
	b = &Browser{ToneHz: opts.ToneHz, dir: opts.Dir}
	if b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "browser-"); err != nil {
			return nil, err
		}
		b.removeDir = true
	}
	defer func() {
		if err != nil {
			b.Close()
			b = nil
		}
	}()
	connect := map[string]any{}
	if callPage {
		if err = bundle(ctx, project, b.dir); err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		b.srv = &http.Server{Handler: pageHandler(project, b.dir), ReadHeaderTimeout: 10 * time.Second}
		go b.srv.Serve(ln)
		connect["url"] = "http://" + ln.Addr().String() + "/"
	}
	wav := filepath.Join(b.dir, "tone.wav")
	if err = WriteToneWAV(wav, opts.ToneHz, 2*time.Second); err != nil {
		return nil, err
	}
	if b.chrome, err = startChromium(ctx, exe, b.dir, flags(wav, opts.ExtraFlags)); err != nil {
		return nil, err
	}
	if b.drv, err = jsclient.StartDriver(ctx, project, "driver.mjs"); err != nil {
		return nil, err
	}
	connect["endpoint"] = b.chrome.endpoint
	if err = b.call(ctx, "connect", connect, 30*time.Second, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// call runs a command in the page (or the driver's connect/stop) and adds
// Chromium's last log lines to a failure.
func (b *Browser) call(ctx context.Context, cmd string, args map[string]any, timeout time.Duration, out any) error {
	err := b.drv.Call(ctx, cmd, args, timeout, out)
	if err != nil && b.chrome.exited() {
		err = fmt.Errorf("%w\nchromium exited; its log ends with:\n%s", err, b.chrome.logTail())
	}
	return err
}

// Close stops the driver and Chromium (with every process it started) and
// removes a temp dir. It is safe to call more than once.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		var errs []error
		if b.drv != nil {
			errs = append(errs, b.drv.Close())
		}
		if b.chrome != nil {
			errs = append(errs, b.chrome.stop())
		}
		if b.srv != nil {
			errs = append(errs, b.srv.Close())
		}
		if b.removeDir {
			errs = append(errs, os.RemoveAll(b.dir))
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}

// Profile is the browser's user-data directory.
func (b *Browser) Profile() string { return filepath.Join(b.dir, "profile") }
