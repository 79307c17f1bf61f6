package dashboard

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

func TestPageAndAssets(t *testing.T) {
	ts := newTestServer(t, nil)
	for path, want := range map[string]string{"": "text/html", "app.js": "text/javascript", "app.css": "text/css"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) || len(body) < 100 {
			t.Fatalf("%s: %d %s (%d bytes)", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if path == "" {
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Fatalf("CSP %q", csp)
			}
			if resp.Header.Get("X-Frame-Options") != "" {
				t.Fatal("the page must be frameable by Element")
			}
		}
	}
	if code := ts.do(t, http.MethodGet, "nothing-here", "", nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", code)
	}
}

func TestSignInWithOpenID(t *testing.T) {
	ts := newTestServer(t, nil)
	s, code := ts.signIn(t, "acme", "tok-sam", "biz.example")
	if code != 200 || s.Role != RoleSupervisor || s.UserID != sam || s.Tenant != "acme" || s.ExpiresIn != 3600 {
		t.Fatalf("supervisor sign-in: %d %+v", code, s)
	}
	var snap Snapshot
	if code := ts.do(t, http.MethodGet, "snapshot", s.Token, nil, &snap); code != 200 || len(snap.Agents) != 2 || snap.Today.Handled != 11 {
		t.Fatalf("supervisor snapshot: %d %+v", code, snap)
	}
	a, code := ts.signIn(t, "acme", "tok-carol", "biz.example")
	if code != 200 || a.Role != RoleAgent {
		t.Fatalf("agent sign-in: %d %+v", code, a)
	}
	snap = Snapshot{}
	if code := ts.do(t, http.MethodGet, "snapshot", a.Token, nil, &snap); code != 200 || len(snap.Agents) != 1 || snap.Today.Handled != 4 || len(snap.Conversations) != 1 {
		t.Fatalf("agent snapshot: %d %s", code, mustJSON(snap))
	}
}

// Everyone who must not get in: forged tokens, a token presented for another server,
// users who are not staff, staff of another tenant.
func TestSignInRefusals(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, c := range []struct {
		name, tenant, token, server string
		want                        int
	}{
		{"forged token", "acme", "tok-forged", "biz.example", http.StatusUnauthorized},
		{"token claimed for another server", "acme", "tok-sam", "cust.example", http.StatusUnauthorized},
		{"customer", "acme", "tok-alice", "cust.example", http.StatusForbidden},
		{"supervisor of another tenant", "acme", "tok-gina", "biz.example", http.StatusForbidden},
		{"acme staff at globex", "globex", "tok-sam", "biz.example", http.StatusForbidden},
		{"unknown tenant", "nope", "tok-sam", "biz.example", http.StatusForbidden},
		{"no token", "acme", "", "biz.example", http.StatusBadRequest},
		{"no tenant", "", "tok-sam", "biz.example", http.StatusBadRequest},
	} {
		s, code := ts.signIn(t, c.tenant, c.token, c.server)
		if code != c.want || s.Token != "" {
			t.Errorf("%s: %d (token %q), want %d", c.name, code, s.Token, c.want)
		}
	}
	if code := ts.do(t, http.MethodPost, "session", "", "not an object", nil); code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", code)
	}
	for _, token := range []string{"", "garbage", "tok-sam"} {
		if code := ts.do(t, http.MethodGet, "snapshot", token, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("snapshot with %q: %d", token, code)
		}
		if _, code := openStream(t, ts.URL, token); code != http.StatusUnauthorized {
			t.Errorf("events with %q: %d", token, code)
		}
	}
}

// A supervisor of one tenant sees nothing of another, whatever the Source returns.
func TestNobodySeesAnotherTenant(t *testing.T) {
	ts := newTestServer(t, nil)
	g, _ := ts.signIn(t, "globex", "tok-gina", "biz.example")
	var snap Snapshot
	if code := ts.do(t, http.MethodGet, "snapshot", g.Token, nil, &snap); code != 200 || snap.Tenant != "globex" || strings.Contains(mustJSON(snap), "acme") {
		t.Fatalf("globex snapshot: %d %s", code, mustJSON(snap))
	}
	// A Source that answers with the wrong tenant's figures is refused, not shown.
	ts.src.mu.Lock()
	ts.src.snaps["globex"] = acmeSnapshot()
	ts.src.mu.Unlock()
	if code := ts.do(t, http.MethodGet, "snapshot", g.Token, nil, nil); code != http.StatusInternalServerError {
		t.Fatalf("wrong-tenant snapshot answered %d", code)
	}
	if _, code := openStream(t, ts.URL, g.Token); code != http.StatusInternalServerError {
		t.Fatalf("wrong-tenant stream answered %d", code)
	}
}

func TestSignInIsRateLimitedPerServer(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.signIns = ratelimit.New(ratelimit.Limit{Per: time.Hour, Burst: 2}, 0)
	for i := range 2 {
		if _, code := ts.signIn(t, "acme", "tok-forged", "evil.example"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	if _, code := ts.signIn(t, "acme", "tok-forged", "evil.example"); code != http.StatusTooManyRequests {
		t.Fatalf("third attempt: %d", code)
	}
	if _, code := ts.signIn(t, "acme", "tok-sam", "biz.example"); code != 200 {
		t.Fatalf("another server's user is not held back: %d", code)
	}
}

func TestOneTimeLink(t *testing.T) {
	ts := newTestServer(t, nil)
	link, err := ts.NewOneTimeLink("acme", sam)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if !strings.HasPrefix(link, ts.URL) || u.Query().Get("tenant") != "acme" || !strings.HasPrefix(u.Fragment, "link=") {
		t.Fatalf("link %q", link)
	}
	token := strings.TrimPrefix(u.Fragment, "link=")
	// Fetching the page (a link preview, a proxy) does not spend it: only the POST does.
	if resp, err := http.Get(link); err != nil || resp.StatusCode != 200 {
		t.Fatalf("page: %v", err)
	}
	var s sessionAnswer
	if code := ts.do(t, http.MethodPost, "session/link", "", map[string]string{"token": token}, &s); code != 200 || s.UserID != sam || s.Role != RoleSupervisor {
		t.Fatalf("link sign-in: %d %+v", code, s)
	}
	if code := ts.do(t, http.MethodPost, "session/link", "", map[string]string{"token": token}, nil); code != http.StatusUnauthorized {
		t.Fatalf("second use: %d", code)
	}
	// A link for someone who has left the staff by the time it is used.
	late, _ := ts.NewOneTimeLink("acme", dave)
	ts.staff.remove("acme", dave)
	lu, _ := url.Parse(late)
	if code := ts.do(t, http.MethodPost, "session/link", "", map[string]string{"token": strings.TrimPrefix(lu.Fragment, "link=")}, nil); code != http.StatusForbidden {
		t.Fatalf("removed staff's link: %d", code)
	}
}

func TestOneTimeLinkExpires(t *testing.T) {
	now := baseTime
	ts := newTestServer(t, func(o *Options) { o.Now = func() time.Time { return now }; o.LinkLifetime = time.Minute })
	link, _ := ts.NewOneTimeLink("acme", sam)
	u, _ := url.Parse(link)
	now = now.Add(time.Minute)
	if code := ts.do(t, http.MethodPost, "session/link", "", map[string]string{"token": strings.TrimPrefix(u.Fragment, "link=")}, nil); code != http.StatusUnauthorized {
		t.Fatalf("expired link: %d", code)
	}
}

func TestRenewRotatesAndChecksStaffAgain(t *testing.T) {
	ts := newTestServer(t, nil)
	s, _ := ts.signIn(t, "acme", "tok-carol", "biz.example")
	var r sessionAnswer
	if code := ts.do(t, http.MethodPost, "session/renew", s.Token, nil, &r); code != 200 || r.Token == s.Token || r.UserID != carol {
		t.Fatalf("renew: %d %+v", code, r)
	}
	if code := ts.do(t, http.MethodGet, "snapshot", s.Token, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the old token still works: %d", code)
	}
	ts.staff.remove("acme", carol)
	// Removed from the staff: the current session no longer reads, nor renews.
	if code := ts.do(t, http.MethodGet, "snapshot", r.Token, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("removed staff reads: %d", code)
	}
	if _, code := openStream(t, ts.URL, r.Token); code != http.StatusUnauthorized {
		t.Fatalf("removed staff streams: %d", code)
	}
	if code := ts.do(t, http.MethodPost, "session/renew", r.Token, nil, nil); code != http.StatusForbidden {
		t.Fatalf("removed staff renews: %d", code)
	}
}

func TestSessionExpires(t *testing.T) {
	now := baseTime
	ts := newTestServer(t, func(o *Options) { o.Now = func() time.Time { return now }; o.SessionLifetime = time.Minute })
	s, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
	now = now.Add(59 * time.Second)
	if code := ts.do(t, http.MethodGet, "snapshot", s.Token, nil, nil); code != 200 {
		t.Fatalf("before expiry: %d", code)
	}
	now = now.Add(time.Second)
	if code := ts.do(t, http.MethodGet, "snapshot", s.Token, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("after expiry: %d", code)
	}
}

func TestSignOut(t *testing.T) {
	ts := newTestServer(t, nil)
	s, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
	if code := ts.do(t, http.MethodDelete, "session", s.Token, nil, nil); code != http.StatusNoContent {
		t.Fatalf("sign out: %d", code)
	}
	if code := ts.do(t, http.MethodGet, "snapshot", s.Token, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("after sign-out: %d", code)
	}
}

func TestStreamFollowsChanges(t *testing.T) {
	ts := newTestServer(t, nil)
	sup, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
	agent, _ := ts.signIn(t, "acme", "tok-carol", "biz.example")
	other, _ := ts.signIn(t, "globex", "tok-gina", "biz.example")
	ss, _ := openStream(t, ts.URL, sup.Token)
	as, _ := openStream(t, ts.URL, agent.Token)
	gs, _ := openStream(t, ts.URL, other.Token)
	if s := ss.next(t, "snapshot", 5*time.Second).snapshot(t); s.Queue.Waiting != 2 || len(s.Agents) != 2 {
		t.Fatalf("first supervisor snapshot: %+v", s.Queue)
	}
	if s := as.next(t, "snapshot", 5*time.Second).snapshot(t); len(s.Agents) != 1 {
		t.Fatalf("first agent snapshot: %+v", s.Agents)
	}
	gs.next(t, "snapshot", 5*time.Second)

	ts.src.set("acme", func(s *Snapshot) {
		s.Queue.Waiting = 3
		s.At = s.At.Add(time.Second)
		s.Agents[1].Status = StatusAway
	})
	if s := ss.next(t, "snapshot", 5*time.Second).snapshot(t); s.Queue.Waiting != 3 || s.Agents[1].Status != StatusAway {
		t.Fatalf("supervisor after change: %+v %+v", s.Queue, s.Agents)
	}
	s := as.next(t, "snapshot", 5*time.Second).snapshot(t)
	if s.Queue.Waiting != 3 || len(s.Agents) != 1 || strings.Contains(mustJSON(s), "dave") {
		t.Fatalf("agent after change: %s", mustJSON(s))
	}
	// Globex's stream heard nothing of acme's change.
	select {
	case ev := <-gs.events:
		t.Fatalf("globex got %q: %s", ev.Type, ev.Data)
	case <-time.After(300 * time.Millisecond):
	}
}

// One snapshot read per change serves all of a tenant's supervisors.
func TestSupervisorsShareOneRead(t *testing.T) {
	ts := newTestServer(t, nil)
	var streams []*sseClient
	for range 5 {
		s, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
		c, _ := openStream(t, ts.URL, s.Token)
		c.next(t, "snapshot", 5*time.Second)
		streams = append(streams, c)
	}
	before := ts.src.calls.Load()
	ts.src.set("acme", func(s *Snapshot) { s.Queue.Waiting = 7; s.At = s.At.Add(time.Second) })
	for _, c := range streams {
		if s := c.next(t, "snapshot", 5*time.Second).snapshot(t); s.Queue.Waiting != 7 {
			t.Fatalf("waiting %d", s.Queue.Waiting)
		}
	}
	if reads := ts.src.calls.Load() - before; reads != 1 {
		t.Fatalf("%d snapshot reads for one change and five supervisors", reads)
	}
}

func TestStreamEndsWhenTheSessionExpires(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.SessionLifetime = 1500 * time.Millisecond; o.KeepAlive = 200 * time.Millisecond })
	s, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
	c, _ := openStream(t, ts.URL, s.Token)
	c.next(t, "snapshot", 5*time.Second)
	c.next(t, "expired", 5*time.Second)
	select {
	case _, ok := <-c.events:
		if ok {
			t.Fatal("events after expiry")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the stream stayed open after expiry")
	}
}

func TestStreamRefreshesWithoutNotices(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Refresh = 100 * time.Millisecond })
	s, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
	c, _ := openStream(t, ts.URL, s.Token)
	c.next(t, "snapshot", 5*time.Second)
	ts.src.mu.Lock()
	ts.src.snaps["acme"] = acmeSnapshot()
	ts.src.snaps["acme"].Queue.Waiting = 42
	ts.src.mu.Unlock()
	if s := c.next(t, "snapshot", 5*time.Second).snapshot(t); s.Queue.Waiting != 42 {
		t.Fatalf("waiting %d", s.Queue.Waiting)
	}
}

func TestLastStreamOutUnsubscribes(t *testing.T) {
	ts := newTestServer(t, nil)
	s, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
	c, _ := openStream(t, ts.URL, s.Token)
	c.next(t, "snapshot", 5*time.Second)
	c.resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts.src.mu.Lock()
		n := len(ts.src.subs["acme"])
		ts.src.mu.Unlock()
		ts.hub.mu.Lock()
		feeds := len(ts.hub.feeds)
		ts.hub.mu.Unlock()
		if n == 0 && feeds == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions and %d feeds left after the last stream closed", n, feeds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNewRequiresItsParts(t *testing.T) {
	if _, err := New(Options{Staff: defaultStaff(), Verifier: tokenMap{}}); err == nil {
		t.Fatal("no source accepted")
	}
	if _, err := New(Options{Source: newFakeSource(), Staff: defaultStaff(), Verifier: tokenMap{}, PublicURL: "https://x/no-slash"}); err == nil {
		t.Fatal("public URL without trailing slash accepted")
	}
	s, err := New(Options{Source: newFakeSource(), Staff: defaultStaff(), Verifier: tokenMap{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewOneTimeLink("acme", id.UserID("@a:b")); err == nil {
		t.Fatal("a link without a public URL")
	}
}

// Close ends the open streams, so that the listener's graceful shutdown is not held
// up by them.
func TestCloseEndsStreams(t *testing.T) {
	ts := newTestServer(t, nil)
	s, _ := ts.signIn(t, "acme", "tok-sam", "biz.example")
	c, _ := openStream(t, ts.URL, s.Token)
	c.next(t, "snapshot", 5*time.Second)
	ts.Close()
	select {
	case _, ok := <-c.events:
		if ok {
			t.Fatal("an event after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream stayed open after Close")
	}
	if _, code := openStream(t, ts.URL, s.Token); code != http.StatusServiceUnavailable {
		t.Fatalf("a stream after Close: %d", code)
	}
}
