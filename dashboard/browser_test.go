package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/testbed"
	"github.com/contactcenter/contactcenter/testclient/browser"
)

// artifactDir is where the browser tests leave their screenshots (ignored by git).
func artifactDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("testdata", "out"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// hostPage serves testdata/host.html, which plays Element's part of the widget API,
// on another origin than the dashboard (localhost rather than 127.0.0.1), as Element
// is on another site than the service.
func hostPage(t *testing.T) string {
	page, err := os.ReadFile(filepath.Join("testdata", "host.html"))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	t.Cleanup(hs.Close)
	_, port, _ := strings.Cut(strings.TrimPrefix(hs.URL, "http://"), ":")
	return "http://localhost:" + port + "/host.html"
}

// browserFixture is a real headless Chromium, the dashboard on a test server whose
// Source the test changes, and real OpenID tokens from the test bed.
type browserFixture struct {
	b          *browser.Browser
	ts         *testServer
	bed        *testbed.Bed
	sup, agent *testbed.Account
	host       string
	loads      int
}

func newBrowserFixture(t *testing.T) *browserFixture {
	t.Helper()
	b := testBed(t)
	f := &browserFixture{bed: b, sup: register(t, b.Business, "sam"), agent: register(t, b.Business, "carol")}
	snap := acmeSnapshot()
	snap.Agents[0].UserID, snap.Agents[0].Name = f.agent.UserID, "Carol"
	snap.Conversations[0].AgentID = f.agent.UserID
	f.ts = newTestServer(t, func(o *Options) {
		o.Verifier = testbedVerifier(t, b)
		o.Staff = &staffList{roles: map[string]map[id.UserID]Role{"acme": {
			id.UserID(f.sup.UserID): RoleSupervisor, id.UserID(f.agent.UserID): RoleAgent}}}
		o.Source = newFakeSource(snap, globexSnapshot())
	})
	f.host = hostPage(t)
	ctx := context.Background()
	var err error
	if f.b, err = browser.StartBlank(ctx, browser.Options{Dir: t.TempDir(), ExtraFlags: []string{"--window-size=1200,1500"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.b.Close() })
	return f
}

// openWidget loads the host page framing the dashboard widget for the account.
func (f *browserFixture) openWidget(t *testing.T, acct *testbed.Account, hs *testbed.Server, extra url.Values) {
	t.Helper()
	tok := requestOpenIDToken(t, hs, acct)
	_, w, err := Widget(f.ts.URL, "acme", "ACME", id.UserID("@acme:"+f.bed.Business.ServerName))
	if err != nil {
		t.Fatal(err)
	}
	widgetURL := strings.NewReplacer("$matrix_user_id", url.QueryEscape(acct.UserID), "$matrix_room_id", url.QueryEscape("!control:x"),
		"$org.matrix.msc2873.client_theme", extra.Get("theme"), "$org.matrix.msc2873.client_language", "en").Replace(w.URL)
	frag := url.Values{"widget": {widgetURL}, "widgetId": {w.ID}, "token": {tok.AccessToken}, "server": {tok.MatrixServerName}}
	for k, v := range extra {
		frag[k] = v
	}
	// A new query each time: a change of fragment alone would not load the page again.
	f.loads++
	if err := f.b.Goto(context.Background(), f.host+"?load="+strconv.Itoa(f.loads)+"#"+frag.Encode()); err != nil {
		t.Fatal(err)
	}
}

// text waits until the dashboard frame's element contains want.
func (f *browserFixture) text(t *testing.T, frame, selector, want string) string {
	t.Helper()
	got, err := f.b.WaitText(context.Background(), frame, selector, want, 15*time.Second)
	if err != nil {
		var now string
		_ = f.b.Eval(context.Background(), frame, fmt.Sprintf("document.querySelector(%q)?.textContent ?? null", selector), &now)
		t.Fatalf("%s: waiting for %q: %v (text now %q)", selector, want, err, now)
	}
	return got
}

// A supervisor opens the widget: Element's get_openid gives a real token from the
// homeserver, the page signs in with it, shows the tenant, and follows changes of the
// Source live, without reloading.
func TestDashboardWidgetInBrowser(t *testing.T) {
	f := newBrowserFixture(t)
	ctx := context.Background()
	frame := f.ts.URL
	// "request": Element asks the user first, and sends the token later.
	f.openWidget(t, f.sup, f.bed.Business, url.Values{"mode": {"request"}})
	f.text(t, frame, "#connection", "Live")
	f.text(t, frame, "#who", f.sup.UserID+" · supervisor")
	f.text(t, frame, "#queue-waiting", "2")
	f.text(t, frame, "#today-handled", "11")
	f.text(t, frame, "#today-sl", "75 %")
	f.text(t, frame, "#count-ready", "1")
	f.text(t, frame, "#conversations tbody", "Visitor 4F2A")
	var caps []string
	if err := f.b.Eval(ctx, "", "window.requestedCapabilities", &caps); err != nil || caps == nil || len(caps) != 0 {
		t.Fatalf("capabilities the widget asked for: %v %v", caps, err)
	}
	var link string
	if err := f.b.Eval(ctx, frame, `document.querySelector("#conversations tbody a").href`, &link); err != nil || !strings.HasPrefix(link, "https://matrix.to/#/%21side1%3Abiz.example") {
		t.Fatalf("side room link %q %v", link, err)
	}
	// A mark in the page's memory: a reload would lose it.
	if err := f.b.Eval(ctx, frame, "window.__notReloaded = true", nil); err != nil {
		t.Fatal(err)
	}
	f.ts.src.set("acme", func(s *Snapshot) {
		s.At = s.At.Add(time.Second)
		s.Queue.Waiting = 3
		s.Agents[1].Status = StatusReady
	})
	f.text(t, frame, "#queue-waiting", "3")
	f.text(t, frame, "#count-ready", "2")
	f.ts.src.set("acme", func(s *Snapshot) {
		s.At = s.At.Add(time.Second)
		s.Queue.Waiting = 2
		s.Conversations = s.Conversations[:2]
	})
	f.text(t, frame, "#queue-waiting", "2")
	var still bool
	if err := f.b.Eval(ctx, frame, "window.__notReloaded === true", &still); err != nil || !still {
		t.Fatalf("the page reloaded: %v %v", still, err)
	}
	out := filepath.Join(artifactDir(t), "dashboard-supervisor.png")
	if err := f.b.Screenshot(ctx, out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v", out, err)
	}
	t.Logf("screenshot: %s", out)

	// The same on a phone-sized frame in Element's dark theme.
	f.openWidget(t, f.sup, f.bed.Business, url.Values{"theme": {"dark"}, "width": {"390"}, "height": {"1450"}})
	f.text(t, frame, "#queue-waiting", "2")
	var dark struct {
		Theme, Background string
		Columns           int
	}
	err := f.b.Eval(ctx, frame, `({theme: document.documentElement.dataset.theme,
		background: getComputedStyle(document.body).backgroundColor,
		columns: getComputedStyle(document.querySelector("main")).gridTemplateColumns.split(" ").length})`, &dark)
	if err != nil || dark.Theme != "dark" || dark.Background != "rgb(16, 18, 20)" || dark.Columns != 1 {
		t.Fatalf("dark phone layout: %+v %v", dark, err)
	}
	out = filepath.Join(artifactDir(t), "dashboard-phone-dark.png")
	if err := f.b.Screenshot(ctx, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}

// An agent's page shows only their own figures; a forged token and a refused OpenID
// request show why nothing else is shown.
func TestDashboardAgentAndRefusalsInBrowser(t *testing.T) {
	f := newBrowserFixture(t)
	ctx := context.Background()
	frame := f.ts.URL
	f.openWidget(t, f.agent, f.bed.Business, nil)
	f.text(t, frame, "#who", f.agent.UserID+" · agent")
	f.text(t, frame, "#h-today", "Your day")
	f.text(t, frame, "#today-handled", "4")
	var seen struct {
		Agents, Conversations int
		Offers                bool
		Text                  string
	}
	err := f.b.Eval(ctx, frame, `({agents: document.querySelectorAll("#agents li").length,
		conversations: document.querySelectorAll("#conversations tbody tr").length,
		offers: !document.querySelector("#queue-offers").hidden,
		text: document.body.innerText})`, &seen)
	if err != nil || seen.Agents != 1 || seen.Conversations != 1 || seen.Offers {
		t.Fatalf("agent page: %+v %v", seen, err)
	}
	for _, leak := range []string{"Dave", "Visitor 4F2A", "Visitor 9B1C"} {
		if strings.Contains(seen.Text, leak) {
			t.Errorf("the agent's page shows %q", leak)
		}
	}

	// A token the homeserver never issued.
	f.openWidget(t, f.sup, f.bed.Business, url.Values{"token": {"forged-openid-token"}})
	f.text(t, frame, "#message", "did not confirm who you are")
	// A customer from the other homeserver, with a real token: not staff.
	cust := register(t, f.bed.Customer, "alice")
	f.openWidget(t, cust, f.bed.Customer, nil)
	f.text(t, frame, "#message", "not on this tenant's staff")
	// The user refused in Element's dialog.
	f.openWidget(t, f.sup, f.bed.Business, url.Values{"mode": {"blocked"}})
	f.text(t, frame, "#message", "needs to confirm who you are")
}

// !dashboard's one-time link, opened outside Element, signs in once.
func TestDashboardLinkInBrowser(t *testing.T) {
	f := newBrowserFixture(t)
	ctx := context.Background()
	link, err := f.ts.NewOneTimeLink("acme", id.UserID(f.sup.UserID))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.Goto(ctx, link); err != nil {
		t.Fatal(err)
	}
	f.text(t, "", "#who", f.sup.UserID+" · supervisor")
	f.text(t, "", "#queue-waiting", "2")
	var href string
	if err := f.b.Eval(ctx, "", "location.href", &href); err != nil || strings.Contains(href, "link=") {
		t.Fatalf("the link's secret stays in the address bar: %q %v", href, err)
	}
	// A reload keeps the session (this tab only); the spent link does not work again.
	if err := f.b.Goto(ctx, href); err != nil {
		t.Fatal(err)
	}
	f.text(t, "", "#queue-waiting", "2")
	if err := f.b.Eval(ctx, "", "sessionStorage.clear()", nil); err != nil {
		t.Fatal(err)
	}
	// From another page: from the same one, a change of fragment alone would not load it.
	if err := f.b.Goto(ctx, "about:blank"); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Goto(ctx, link); err != nil {
		t.Fatal(err)
	}
	f.text(t, "", "#message", "has been used or has expired")
}

// Time from a change in the Source to the page showing it, in a real browser: the
// page records when #queue-waiting changes (a MutationObserver, Date.now()), the test
// when it notified. Same machine, same clock.
func TestDashboardUpdateLatencyInBrowser(t *testing.T) {
	f := newBrowserFixture(t)
	ctx := context.Background()
	frame := f.ts.URL
	f.openWidget(t, f.sup, f.bed.Business, nil)
	f.text(t, frame, "#queue-waiting", "2")
	err := f.b.Eval(ctx, frame, `(() => {
		window.__changes = {};
		const el = document.querySelector("#queue-waiting");
		new MutationObserver(() => { window.__changes[el.textContent] = Date.now(); })
			.observe(el, {childList: true, characterData: true, subtree: true});
		return true; })()`, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	sent := make([]time.Time, n)
	var lat []float64
	for i := range n {
		waiting := 100 + i
		sent[i] = time.Now()
		f.ts.src.set("acme", func(s *Snapshot) { s.At = time.Now(); s.Queue.Waiting = waiting })
		f.text(t, frame, "#queue-waiting", strconv.Itoa(waiting))
		time.Sleep(20 * time.Millisecond)
	}
	var changes map[string]int64
	if err := f.b.Eval(ctx, frame, "window.__changes", &changes); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		at, ok := changes[strconv.Itoa(100+i)]
		if !ok {
			t.Fatalf("change %d not recorded", i)
		}
		lat = append(lat, float64(at-sent[i].UnixMilli()))
	}
	slices.Sort(lat)
	p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
	t.Logf("Source change → page updated (DOM), %d changes: p50 %.0f ms, p95 %.0f ms, max %.0f ms", n, p50, p95, lat[len(lat)-1])
	if p95 > 1000 {
		t.Errorf("p95 %.0f ms: updates must reach the page within a second", p95)
	}
}
