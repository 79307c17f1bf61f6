package testbed

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures Start.
type Options struct {
	Dir                 string   // working directory; a new temp dir if empty (see TempBase; removed by Close unless KeepDir)
	KeepDir             bool     // keep Dir after Close or a failed Start, e.g. to read the logs (errors carry their tail anyway)
	BusinessAppservices []string // appservice registration YAML files installed into the business server

	// BusinessAppservicesFor, if set, is called after the business server's ports, name
	// and URL are chosen but before it first starts; the files it returns are installed
	// after BusinessAppservices. A registration's namespaces must be anchored to the
	// server name, which contains the federation port and so is unknown before Start.
	// It is called again if the start is retried with new ports.
	BusinessAppservicesFor func(business *Server) ([]string, error)
}

// Bed is a running pair of federating homeservers.
type Bed struct {
	Customer, Business *Server
	Dir                string
	// StartupDuration is the time Start took after the install check: config and key
	// generation, both servers starting in parallel, and the federation check.
	StartupDuration time.Duration

	keepDir bool

	mu    sync.Mutex
	extra []*SlowServer // started by StartSlowServer, stopped by Close
}

// Start installs Dendrite if needed, then starts the "customer" and "business" servers in
// parallel on free loopback ports. It returns once both answer the client API and each
// can fetch the other's signing keys over federation.
func Start(ctx context.Context, opts Options) (*Bed, error) {
	binDir, err := EnsureDendrite(ctx)
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp(TempBase(), "testbed-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	b := &Bed{Dir: dir, keepDir: opts.KeepDir}

	var wg sync.WaitGroup
	var custErr, busErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		b.Customer, custErr = startNewServer(ctx, binDir, dir, "customer", nil, nil)
	}()
	go func() {
		defer wg.Done()
		b.Business, busErr = startNewServer(ctx, binDir, dir, "business", opts.BusinessAppservices, opts.BusinessAppservicesFor)
	}()
	wg.Wait()
	if err := errors.Join(custErr, busErr); err != nil {
		_ = b.Close()
		return nil, err
	}
	if err := b.waitFederation(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	b.StartupDuration = time.Since(begin)
	return b, nil
}

// Close stops the servers and removes Dir unless KeepDir was set.
func (b *Bed) Close() error {
	b.mu.Lock()
	extra := b.extra
	b.extra = nil
	b.mu.Unlock()
	for _, s := range extra {
		s.close()
	}
	for _, s := range []*Server{b.Customer, b.Business} {
		if s != nil {
			_ = s.Stop(context.Background())
		}
	}
	if b.keepDir {
		return nil
	}
	return os.RemoveAll(b.Dir)
}

// startNewServer creates a fresh server directory under parent and starts it. If a port
// was taken between picking it and Dendrite binding it, it starts over once with new
// ports; the server name contains the federation port, so the config is regenerated.
func startNewServer(ctx context.Context, binDir, parent, name string, appservices []string, appservicesFor func(*Server) ([]string, error)) (*Server, error) {
	for attempt := 0; ; attempt++ {
		s, err := newServer(ctx, binDir, filepath.Join(parent, name), name, appservices, appservicesFor)
		if err != nil {
			return nil, err
		}
		err = s.Start(ctx)
		if err == nil {
			return s, nil
		}
		if attempt > 0 || !s.bindFailed() {
			return nil, err
		}
	}
}

// newServer picks ports and writes keys and config into a fresh dir.
func newServer(ctx context.Context, binDir, dir, name string, appservices []string, appservicesFor func(*Server) ([]string, error)) (*Server, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	clientPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	fedPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	if fedPort == clientPort {
		if fedPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	secret, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Name:         name,
		URL:          "http://127.0.0.1:" + strconv.Itoa(clientPort),
		ServerName:   "localhost:" + strconv.Itoa(fedPort),
		SharedSecret: secret,
		Dir:          dir,
		binDir:       binDir,
		files:        serverFiles{dir: dir},
		clientPort:   clientPort,
		fedPort:      fedPort,
	}
	if appservicesFor != nil {
		more, err := appservicesFor(s)
		if err != nil {
			return nil, fmt.Errorf("testbed: appservices for %s server: %w", name, err)
		}
		appservices = append(append([]string(nil), appservices...), more...)
	}
	if err := writeServerConfig(ctx, binDir, s.files, s.ServerName, secret, appservices); err != nil {
		return nil, fmt.Errorf("testbed: configure %s server: %w", name, err)
	}
	return s, nil
}

// TempBase is where Start makes its directory when Options.Dir is empty: $CC_TESTBED_TMPDIR
// if set, else /dev/shm when it is a writable directory, else os.TempDir(). SQLite and
// JetStream fsync a lot while creating fresh databases; on tmpfs both servers are up in
// about 0.4 s instead of about 0.9 s on disk. A bed takes about 2 MB.
func TempBase() string {
	if d := os.Getenv("CC_TESTBED_TMPDIR"); d != "" {
		return d
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", ".testbed-probe-"); err == nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. It is chosen
// below the kernel's ephemeral range: a port from that range (what binding port 0
// gives) can be taken, between the check and the listener's start, by any outgoing
// connection on the machine — the homeservers', browsers', other tests' — and the
// listener then fails with "address already in use".
func FreePort() (int, error) {
	low := ephemeralLow()
	for range 50 {
		if low-firstFreePort < 1000 {
			break
		}
		port := firstFreePort + mathrand.IntN(low-firstFreePort)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = l.Close()
			return port, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// firstFreePort is the lowest port FreePort hands out: above the well-known and the
// usual service ports.
const firstFreePort = 10000

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's default
// where it cannot be read).
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(data))
	if len(fields) < 1 {
		return 32768
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return low
}

func randomHex(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf), nil
}

// waitFederation waits until each server, asked as a notary, returns the other's signing
// keys. Dendrite's notary endpoint fetches them directly over federation HTTPS, so this
// proves name resolution, TLS and both federation listeners in both directions.
func (b *Bed) waitFederation(ctx context.Context) error {
	return waitKeyExchange(ctx, b.Customer, b.Business)
}

// waitKeyExchange waits until x, asked as a notary, returns y's signing keys, and y x's.
func waitKeyExchange(ctx context.Context, x, y *Server) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	defer client.CloseIdleConnections()
	for _, pair := range [][2]*Server{{x, y}, {y, x}} {
		var lastErr error
		for {
			if lastErr = fetchKeysVia(ctx, client, pair[0], pair[1]); lastErr == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("testbed: %s server cannot fetch the %s server's keys: %w%s",
					pair[0].Name, pair[1].Name, lastErr, pair[0].logTail())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// fetchKeysVia asks notary's federation API (POST /_matrix/key/v2/query) for target's keys.
func fetchKeysVia(ctx context.Context, client *http.Client, notary, target *Server) error {
	body, _ := json.Marshal(map[string]any{"server_keys": map[string]any{target.ServerName: map[string]any{}}})
	// Dial by the server name: Dendrite's notary handler rejects a Host that is not its own name.
	url := "https://" + notary.ServerName + "/_matrix/key/v2/query"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	var out struct {
		ServerKeys []struct {
			ServerName string `json:"server_name"`
		} `json:"server_keys"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return err
	}
	for _, k := range out.ServerKeys {
		if k.ServerName == target.ServerName {
			return nil
		}
	}
	return fmt.Errorf("no keys for %s in %s", target.ServerName, bytes.TrimSpace(data))
}
