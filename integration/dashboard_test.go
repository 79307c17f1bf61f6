package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/dashboard"
	"github.com/contactcenter/contactcenter/testclient/browser"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// dashboardPage is a real headless Chromium showing the dashboard the way Element
// frames it: dashboard/testdata/host.html plays Element's side of the widget API on
// another origin (localhost rather than 127.0.0.1) and hands the widget an OpenID
// token requested from the user's homeserver.
type dashboardPage struct {
	b      *browser.Browser
	host   string
	public string // dashboard.public_url: the widget's frame
	loads  int
}

func newDashboardPage(t *testing.T, public string) *dashboardPage {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("..", "dashboard", "testdata", "host.html"))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	t.Cleanup(hs.Close)
	_, port, _ := strings.Cut(strings.TrimPrefix(hs.URL, "http://"), ":")
	b, err := browser.StartBlank(context.Background(), browser.Options{Dir: t.TempDir(), ExtraFlags: []string{"--window-size=1200,1500"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return &dashboardPage{b: b, host: "http://localhost:" + port + "/host.html", public: public}
}

// open loads the widget w of room for viewer, whose OpenID token (or token, when not
// empty, claimed to be from server) the host page hands over.
func (p *dashboardPage) open(t *testing.T, w *dashboard.WidgetContent, room id.RoomID, viewer *mxclient.Client, token, server string) {
	t.Helper()
	if token == "" {
		tok, err := viewer.RequestOpenIDToken(context.Background())
		if err != nil {
			t.Fatalf("OpenID token for %s: %v", viewer.UserID, err)
		}
		token, server = tok.AccessToken, tok.MatrixServerName
	}
	// What Element does with the URL's template variables.
	src := strings.NewReplacer("$matrix_user_id", url.QueryEscape(viewer.UserID.String()), "$matrix_room_id", url.QueryEscape(room.String()),
		"$org.matrix.msc2873.client_theme", "light", "$org.matrix.msc2873.client_language", "en").Replace(w.URL)
	frag := url.Values{"widget": {src}, "widgetId": {w.ID}, "token": {token}, "server": {server}}
	p.loads++ // a new query each time: a change of fragment alone would not load the page again
	if err := p.b.Goto(context.Background(), p.host+"?load="+strconv.Itoa(p.loads)+"#"+frag.Encode()); err != nil {
		t.Fatal(err)
	}
}

// text waits until an element of the dashboard's frame contains want.
func (p *dashboardPage) text(t *testing.T, selector, want string) {
	t.Helper()
	p.textIn(t, p.public, selector, want)
}

func (p *dashboardPage) textIn(t *testing.T, frame, selector, want string) {
	t.Helper()
	p.textWithin(t, frame, selector, want, 20*time.Second)
}

func (p *dashboardPage) textWithin(t *testing.T, frame, selector, want string, timeout time.Duration) {
	t.Helper()
	if _, err := p.b.WaitText(context.Background(), frame, selector, want, timeout); err != nil {
		var now string
		_ = p.b.Eval(context.Background(), frame, fmt.Sprintf("document.querySelector(%q)?.textContent ?? null", selector), &now)
		t.Fatalf("%s: waiting for %q: %v (text now %q)", selector, want, err, now)
	}
}

// eval evaluates an expression in the dashboard's frame.
func (p *dashboardPage) eval(t *testing.T, expression string, out any) {
	t.Helper()
	if err := p.b.Eval(context.Background(), p.public, expression, out); err != nil {
		t.Fatalf("%s: %v", expression, err)
	}
}

// pageSeen is what a viewer's page shows, counted.
type pageSeen struct {
	Agents, Conversations int
	Text                  string
}

func (p *dashboardPage) seen(t *testing.T) pageSeen {
	t.Helper()
	var s pageSeen
	p.eval(t, `({agents: document.querySelectorAll("#agents li").length,
		conversations: document.querySelectorAll("#conversations tbody tr").length,
		text: document.body.innerText})`, &s)
	return s
}

// controlWidget waits for the dashboard widget in a control room and checks it and
// Element's layout as the staff member's client reads them.
func controlWidget(t *testing.T, staff *mxclient.Client, room id.RoomID, tenant, public string) *dashboard.WidgetContent {
	t.Helper()
	ctx := context.Background()
	key := dashboard.WidgetID(tenant)
	var w dashboard.WidgetContent
	eventually(t, welcomeTimeout, "the dashboard widget in "+room.String(), func() (bool, error) {
		err := staff.StateEvent(ctx, room, event.Type{Type: dashboard.WidgetEventType, Class: event.StateEventType}, key, &w)
		return err == nil, nil
	})
	if w.ID != key || w.Type != dashboard.CustomWidgetType || !strings.HasPrefix(w.URL, public+"?tenant="+tenant+"&") {
		t.Fatalf("widget in %s: %+v", room, w)
	}
	var layout dashboard.LayoutContent
	eventually(t, welcomeTimeout, "the widget layout in "+room.String(), func() (bool, error) {
		err := staff.StateEvent(ctx, room, event.Type{Type: dashboard.LayoutEventType, Class: event.StateEventType}, "", &layout)
		return err == nil, nil
	})
	if err := layout.Validate(key); err != nil || layout.Widgets[key].Container != "top" {
		t.Fatalf("layout in %s: %+v %v", room, layout, err)
	}
	return &w
}

// signIn posts an OpenID token to the dashboard's sign-in, as the page does.
func signIn(t *testing.T, public, tenant string, tok *mautrix.RespOpenIDToken) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"tenant": tenant, "access_token": tok.AccessToken, "matrix_server_name": tok.MatrixServerName})
	resp, err := http.Post(public+"session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDashboard: a supervisor's control room shows the live dashboard as a widget;
// opened the way Element opens it, with an OpenID token from the supervisor's
// homeserver, it follows a customer's arrival and an agent's acceptance without a
// reload. An agent sees only their own figures; forged tokens, other servers' tokens,
// customers and another tenant's supervisor see nothing of the tenant; !dashboard's
// one-time link signs in outside Element.
func TestDashboard(t *testing.T) {
	tm := newTeam(t, "sqlite", func(cfg *config.Config) {
		cfg.Dashboard.PublicURL = cfg.Appservice.Address + dashboard.PathPrefix
		// The test bed's homeservers are on loopback with self-signed certificates.
		cfg.Dashboard.FederationInsecureTLS, cfg.Dashboard.FederationPrivateAddresses = true, true
	})
	d, ctx, acme := tm.d, context.Background(), businessUser(tm.d)
	public := d.Config.Dashboard.PublicURL

	// The widget and its layout are in the supervisors' control rooms, not in agents'.
	samRoom, hankRoom := tm.control[tm.sam.UserID], tm.control[tm.hank.UserID]
	acmeWidget := controlWidget(t, tm.sam, samRoom, "acme", public)
	globexWidget := controlWidget(t, tm.hank, hankRoom, "globex", public)
	var none dashboard.WidgetContent
	if err := tm.carol.StateEvent(ctx, tm.control[tm.carol.UserID], event.Type{Type: dashboard.WidgetEventType, Class: event.StateEventType},
		dashboard.WidgetID("acme"), &none); err == nil {
		t.Errorf("an agent's control room has the widget: %+v", none)
	}

	// The supervisor opens it: nobody waits yet.
	p := newDashboardPage(t, public)
	p.open(t, acmeWidget, samRoom, tm.sam, "", "")
	p.text(t, "#connection", "Live")
	p.text(t, "#who", tm.sam.UserID.String()+" · supervisor")
	p.text(t, "#title", "ACME")
	p.text(t, "#queue-waiting", "0")
	p.text(t, "#no-conversations", "None open")
	p.eval(t, "window.__notReloaded = true", nil)

	// A customer arrives while no agent is ready: the queue count goes up on the page.
	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	if _, err = customer.SendText(ctx, room, "My card was swallowed by the machine"); err != nil {
		t.Fatal(err)
	}
	conv := openConversation(t, d, room)
	p.text(t, "#queue-waiting", "1")
	p.text(t, "#conversations tbody", "Visitor ")
	if s := p.seen(t); s.Conversations != 1 || strings.Contains(s.Text, customer.UserID.String()) {
		t.Fatalf("the queued conversation as the supervisor sees it (%d rows): %s", s.Conversations, s.Text)
	}

	// Carol becomes ready and accepts: the queue count goes back, the conversation is hers.
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	p.text(t, "#queue-waiting", "0")
	p.text(t, "#conversations tbody", "Carol")
	p.text(t, "#today-handled", "1") // from the contact log
	var notReloaded bool
	if p.eval(t, "window.__notReloaded === true", &notReloaded); !notReloaded {
		t.Fatal("the page reloaded")
	}
	var link string
	p.eval(t, `document.querySelector("#conversations tbody a").href`, &link)
	if want := "https://matrix.to/#/" + url.QueryEscape(conv.SideRoom.String()) + "?via="; !strings.HasPrefix(link, want) {
		t.Errorf("side room link %q, want %q…", link, want)
	}
	dir := filepath.Join("testdata", "out")
	if err = os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, _ := filepath.Abs(filepath.Join(dir, "dashboard-supervisor.png"))
	if err = p.b.Screenshot(ctx, shot); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)

	// An agent sees their own figures and conversations, nobody else's.
	p.open(t, acmeWidget, tm.control[tm.carol.UserID], tm.carol, "", "")
	p.text(t, "#who", tm.carol.UserID.String()+" · agent")
	p.text(t, "#h-today", "Your day")
	p.text(t, "#today-handled", "1")
	if s := p.seen(t); s.Agents != 1 || s.Conversations != 1 || strings.Contains(s.Text, "Dave") {
		t.Errorf("Carol's page: %d agents, %d conversations: %s", s.Agents, s.Conversations, s.Text)
	}
	p.open(t, acmeWidget, tm.control[tm.dave.UserID], tm.dave, "", "")
	p.text(t, "#who", tm.dave.UserID.String()+" · agent")
	p.text(t, "#today-handled", "0")
	if s := p.seen(t); s.Agents != 1 || s.Conversations != 0 || strings.Contains(s.Text, "Carol") || strings.Contains(s.Text, "Visitor") {
		t.Errorf("Dave's page: %d agents, %d conversations: %s", s.Agents, s.Conversations, s.Text)
	}

	// Tokens that prove nothing, or someone who is not the tenant's staff.
	p.open(t, acmeWidget, samRoom, tm.sam, "forged-openid-token", d.Bed.Business.ServerName)
	p.text(t, "#message", "did not confirm who you are")
	custTok, err := customer.RequestOpenIDToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.open(t, acmeWidget, samRoom, customer, custTok.AccessToken, d.Bed.Business.ServerName) // another server's token
	p.text(t, "#message", "did not confirm who you are")
	p.open(t, acmeWidget, samRoom, customer, "", "") // a real customer, over federation
	p.text(t, "#message", "not on this tenant's staff")
	p.open(t, acmeWidget, hankRoom, tm.hank, "", "") // another tenant's supervisor
	p.text(t, "#message", "not on this tenant's staff")
	hankTok, err := tm.hank.RequestOpenIDToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code := signIn(t, public, "acme", hankTok); code != http.StatusForbidden {
		t.Errorf("another tenant's supervisor signing in to ACME: HTTP %d", code)
	}
	// In their own tenant's dashboard they see nothing of ACME.
	p.open(t, globexWidget, hankRoom, tm.hank, "", "")
	p.text(t, "#who", tm.hank.UserID.String()+" · supervisor")
	p.text(t, "#queue-waiting", "0")
	p.text(t, "#today-handled", "0")
	if s := p.seen(t); s.Conversations != 0 || strings.Contains(s.Text, "Carol") || strings.Contains(s.Text, "Visitor") {
		t.Errorf("Globex's supervisor sees ACME: %d conversations: %s", s.Conversations, s.Text)
	}

	// A change another replica commits sends no notice to this one: the page still has
	// it within seconds, well before its own 30 s refresh.
	p.open(t, acmeWidget, samRoom, tm.sam, "", "")
	p.text(t, "#count-away", "0")
	if _, err = d.Service.DB.Exec(ctx, "UPDATE staff SET status = 'away' WHERE tenant_id = 'acme' AND user_id = $1", tm.dave.UserID); err != nil {
		t.Fatal(err)
	}
	p.textWithin(t, public, "#count-away", "1", 8*time.Second)

	// Outside Element: !dashboard answers with a link that signs in once.
	var reply string
	sent, err := tm.sam.SendText(ctx, samRoom, "!dashboard")
	if err != nil {
		t.Fatal(err)
	}
	seenSent := false
	linkRe := regexp.MustCompile(`https?://\S+#link=[A-Za-z0-9_-]+`)
	if _, err = tm.sam.WaitFor(ctx, samRoom, welcomeTimeout, func(evt *event.Event) bool {
		if evt.ID == sent {
			seenSent = true
			return false
		}
		msg := evt.Content.AsMessage()
		if seenSent && evt.Sender == acme && msg != nil && linkRe.MatchString(msg.Body) {
			reply = msg.Body
			return true
		}
		return false
	}); err != nil {
		t.Fatalf("!dashboard: no link: %v", err)
	}
	oneTime := linkRe.FindString(reply)
	if !strings.HasPrefix(oneTime, public) || !strings.Contains(reply, "pinned") {
		t.Fatalf("!dashboard: %q", reply)
	}
	if err = p.b.Goto(ctx, oneTime); err != nil {
		t.Fatal(err)
	}
	p.textIn(t, "", "#who", tm.sam.UserID.String()+" · supervisor")
	p.textIn(t, "", "#conversations tbody", "Carol")
	// An agent's link opens their own view; their room has no widget to mention.
	tm.say(t, tm.dave, acme, "!dashboard", "The link works once")
}
