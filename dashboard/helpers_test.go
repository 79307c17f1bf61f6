package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// fakeSource holds one snapshot per tenant; set replaces it and notifies.
type fakeSource struct {
	Notifier
	mu    sync.Mutex
	snaps map[string]*Snapshot
	calls atomic.Int64
}

func newFakeSource(snaps ...*Snapshot) *fakeSource {
	f := &fakeSource{snaps: map[string]*Snapshot{}}
	for _, s := range snaps {
		f.snaps[s.Tenant] = s
	}
	return f
}

func (f *fakeSource) Snapshot(_ context.Context, tenant string, _ Viewer) (*Snapshot, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.snaps[tenant]
	if s == nil {
		return nil, errors.New("no such tenant")
	}
	return s, nil
}

// set edits a copy of the tenant's snapshot, stores it and notifies.
func (f *fakeSource) set(tenant string, edit func(*Snapshot)) {
	f.mu.Lock()
	var c Snapshot
	data, _ := json.Marshal(f.snaps[tenant])
	_ = json.Unmarshal(data, &c)
	edit(&c)
	f.snaps[tenant] = &c
	f.mu.Unlock()
	f.Notify(tenant)
}

// staffList is a tenant → user → role map that tests may change.
type staffList struct {
	mu    sync.Mutex
	roles map[string]map[id.UserID]Role
}

func (s *staffList) StaffRole(_ context.Context, tenant string, user id.UserID) (Role, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[tenant][user]
	return r, ok, nil
}

func (s *staffList) remove(tenant string, user id.UserID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.roles[tenant], user)
}

// tokenMap is a verifier that knows a fixed set of tokens, and like a homeserver
// vouches only for users of the server the token is presented for.
type tokenMap map[string]id.UserID

func (m tokenMap) Verify(_ context.Context, serverName, token string) (id.UserID, error) {
	u, ok := m[token]
	if !ok || u.Homeserver() != serverName {
		return "", ErrTokenRefused
	}
	return u, nil
}

const (
	sam   = id.UserID("@sam:biz.example")   // supervisor of acme
	carol = id.UserID("@carol:biz.example") // agent of acme
	dave  = id.UserID("@dave:biz.example")  // agent of acme
	gina  = id.UserID("@gina:biz.example")  // supervisor of globex
	alice = id.UserID("@alice:cust.example")
)

func ptr[T any](v T) *T { return &v }

var baseTime = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// acmeSnapshot is a tenant with two agents, three open conversations and history.
func acmeSnapshot() *Snapshot {
	since := baseTime.Add(-95 * time.Second)
	return &Snapshot{
		Tenant: "acme", TenantName: "ACME", At: baseTime,
		Queue: Queue{Waiting: 2, OldestSince: &since, OffersOpen: 1},
		Agents: []Agent{
			{UserID: carol.String(), Name: "Carol", Status: StatusReady, Load: 1, Capacity: 3,
				Today:   &Figures{Handled: 4, Abandoned: 0, ASASeconds: ptr(12.0)},
				History: []Bucket{{Start: baseTime.Add(-time.Hour), Handled: 4}}},
			{UserID: dave.String(), Name: "Dave", Status: StatusBusy, Load: 2, Capacity: 2,
				Today: &Figures{Handled: 7, ASASeconds: ptr(30.0)}},
		},
		Today: Figures{Queued: 14, Handled: 11, Abandoned: 2, Missed: 1, ASASeconds: ptr(22.5),
			ServiceLevel: ptr(0.75), ServiceLevelSeconds: 30, ServiceLevelTarget: 0.8},
		History: []Bucket{
			{Start: baseTime.Add(-2 * time.Hour), Queued: 6, Handled: 5, Abandoned: 1},
			{Start: baseTime.Add(-time.Hour), Queued: 8, Handled: 6, Abandoned: 1},
		},
		Conversations: []Conversation{
			{ID: "c1", Customer: "Alice Customer", State: "active", Since: baseTime.Add(-5 * time.Minute),
				AgentID: carol.String(), Agent: "Carol", SideRoom: "!side1:biz.example", Via: []string{"biz.example"}},
			{ID: "c2", Customer: "Visitor 4F2A", State: "active", Since: baseTime.Add(-3 * time.Minute),
				AgentID: dave.String(), Agent: "Dave", SideRoom: "!side2:biz.example"},
			{ID: "c3", Customer: "Visitor 9B1C", State: "queued", Since: since},
		},
	}
}

func globexSnapshot() *Snapshot {
	return &Snapshot{Tenant: "globex", TenantName: "Globex", At: baseTime, Queue: Queue{Waiting: 9},
		Agents: []Agent{{UserID: "@gus:biz.example", Name: "Gus", Status: StatusAway, Capacity: 1}}}
}

func defaultStaff() *staffList {
	return &staffList{roles: map[string]map[id.UserID]Role{
		"acme":   {sam: RoleSupervisor, carol: RoleAgent, dave: RoleAgent},
		"globex": {gina: RoleSupervisor},
	}}
}

// testServer is a Server on an httptest listener.
type testServer struct {
	*Server
	URL   string
	src   *fakeSource
	staff *staffList
}

func newTestServer(t testing.TB, mutate func(*Options)) *testServer {
	t.Helper()
	src := newFakeSource(acmeSnapshot(), globexSnapshot())
	staff := defaultStaff()
	opts := Options{
		Source: src, Staff: staff,
		Verifier: tokenMap{"tok-sam": sam, "tok-carol": carol, "tok-dave": dave, "tok-gina": gina, "tok-alice": alice},
		Log:      zerolog.New(zerolog.NewTestWriter(t)),
	}
	if mutate != nil {
		mutate(&opts)
	}
	if fs, ok := opts.Source.(*fakeSource); ok {
		src = fs
	}
	if sl, ok := opts.Staff.(*staffList); ok {
		staff = sl
	}
	hs := httptest.NewUnstartedServer(nil)
	if opts.PublicURL == "" {
		opts.PublicURL = "http://" + hs.Listener.Addr().String() + PathPrefix
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(PathPrefix, s)
	hs.Config.Handler = mux
	hs.Start()
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return &testServer{Server: s, URL: hs.URL + PathPrefix, src: src, staff: staff}
}

// do sends a request with an optional bearer token and JSON body, and decodes the JSON
// answer into out (if not nil); it returns the status.
func (ts *testServer) do(t testing.TB, method, path, token string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, ts.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// signIn signs in with a widget OpenID token and returns the session.
func (ts *testServer) signIn(t testing.TB, tenant, token string, server string) (sessionAnswer, int) {
	t.Helper()
	var s sessionAnswer
	code := ts.do(t, http.MethodPost, "session", "", signInRequest{Tenant: tenant, AccessToken: token, MatrixServerName: server}, &s)
	return s, code
}

// sseClient reads server-sent events.
type sseClient struct {
	resp   *http.Response
	events chan sseEvent
}

type sseEvent struct {
	Type, Data string
	At         time.Time
}

func openStream(t *testing.T, url, token string) (*sseClient, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	c := &sseClient{resp: resp, events: make(chan sseEvent, 64)}
	go c.read()
	t.Cleanup(func() { resp.Body.Close() })
	return c, resp.StatusCode
}

func (c *sseClient) read() {
	defer close(c.events)
	sc := bufio.NewScanner(c.resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Type != "" || ev.Data != "" {
				ev.At = time.Now()
				c.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// next returns the next event of the given type within timeout.
func (c *sseClient) next(t *testing.T, typ string, timeout time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("stream ended while waiting for %q", typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %s", typ, timeout)
		}
	}
}

// snapshot decodes a snapshot event.
func (ev sseEvent) snapshot(t *testing.T) *Snapshot {
	t.Helper()
	var s Snapshot
	if err := json.Unmarshal([]byte(ev.Data), &s); err != nil {
		t.Fatalf("snapshot event: %v: %s", err, ev.Data)
	}
	return &s
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(data)
}
