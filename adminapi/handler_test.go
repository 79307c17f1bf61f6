package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }

// recorder is a Backend that records what it is told and answers from its maps.
type recorder struct {
	mu            sync.Mutex
	calls         []string
	facts         map[string]OutboundFacts // by customer
	accounts      map[string]string
	conversations []Conversation
	revealed      map[string]*Revealed // by subject
}

func (r *recorder) record(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

func (r *recorder) took(call string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c == call {
			n++
		}
	}
	return n
}

func (r *recorder) StaffChanged(_ context.Context, tenant string) error {
	r.record("staff %s", tenant)
	return nil
}
func (r *recorder) WorkflowReplaced(_ context.Context, tenant string) error {
	r.record("workflow %s", tenant)
	return nil
}
func (r *recorder) Conversations(_ context.Context, tenant string, f ConversationFilter) ([]Conversation, error) {
	r.record("conversations %s %s %d %d", tenant, f.State, f.Before, f.Limit)
	return r.conversations, nil
}
func (r *recorder) Conversation(_ context.Context, tenant string, id int64) (*Conversation, error) {
	for _, c := range r.conversations {
		if c.ID == id && tenant == "acme" {
			return &c, nil
		}
	}
	return nil, nil
}
func (r *recorder) CustomerOf(_ context.Context, tenant, account string) (string, error) {
	return r.accounts[tenant+"/"+account], nil
}
func (r *recorder) OutboundFacts(_ context.Context, tenant, customer string) (OutboundFacts, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.facts[customer], nil
}
func (r *recorder) OutboundRequested(_ context.Context, tenant string, id int64) error {
	r.record("outbound %s %d", tenant, id)
	return nil
}
func (r *recorder) Reveal(_ context.Context, tenant, subject string) (*Revealed, error) {
	return r.revealed[tenant+"/"+subject], nil
}
func (r *recorder) Revealed(_ context.Context, tenant string, audit *database.Reveal) error {
	r.record("revealed %s %s", tenant, audit.Subject)
	return nil
}

const (
	acmeKey     = "cc_acmeacmeacmeacmeacmeacmeacmeacme"
	globexKey   = "cc_globexglobexglobexglobexglobexgl"
	providerKey = "cc_providerproviderproviderprovider"
)

type fixture struct {
	t       testing.TB
	db      *database.Database
	h       *Handler
	backend *recorder
	now     time.Time
}

// newFixture serves ACME (contact window all day, at most 2 contacts a day) and
// Globex (weekdays 09-17 Lisbon time) on a fresh database, with Carol an ACME agent.
func newFixture(t testing.TB, db *database.Database) *fixture {
	ctx := context.Background()
	anyTime, err := outbound.Config{MaxContacts: 2, Period: routing.Duration(24 * time.Hour)}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	office, err := outbound.Config{Window: map[string]string{"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00",
		"thu": "09:00-17:00", "fri": "09:00-17:00"}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	wf := &routing.Workflow{Steps: []routing.Step{{AccountManager: true, Timeout: time.Minute}, {Queue: "mortgages"}}, OfferTimeout: time.Minute}
	f := &fixture{t: t, db: db, now: time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC), backend: &recorder{
		facts: map[string]OutboundFacts{
			"@alice:customer.test": {ContactPolicy: outbound.PolicyAlways, PolicySetAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
			"@bob:customer.test":   {ContactPolicy: "ask"},
		},
		accounts: map[string]string{"acme/A-1": "@alice:customer.test"},
		revealed: map[string]*Revealed{"acme/Visitor 4F2A": {MatrixID: "@bob:customer.test", ConversationID: 7}},
	}}
	f.h, err = New(db, f.backend, []Tenant{
		{ID: "acme", Policy: anyTime, TimeZone: "Europe/Lisbon", Workflow: wf,
			CheckStaff: func(u string) error {
				if !strings.HasSuffix(u, ":business.test") {
					return fmt.Errorf("%s is on another homeserver", u)
				}
				return nil
			}},
		{ID: "globex", Policy: office, TimeZone: "Europe/Lisbon"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h.SetClock(func() time.Time { return f.now })
	keys := map[string]*database.AdminKey{
		contextapi.KeyHashConfig(acmeKey):     {Scope: database.ScopeTenant, TenantID: "acme", Label: "acme"},
		contextapi.KeyHashConfig(globexKey):   {Scope: database.ScopeTenant, TenantID: "globex", Label: "globex"},
		contextapi.KeyHashConfig(providerKey): {Scope: database.ScopeProvider, Label: "abuse desk"},
	}
	if err = db.AdminKeys.SyncConfig(ctx, keys, f.now); err != nil {
		t.Fatal(err)
	}
	if _, err = db.StaffProfiles.Seed(ctx, "acme", []routing.Staff{
		{UserID: "@carol:business.test", Name: "Carol", Role: routing.RoleAgent, Languages: []string{"en"}},
		{UserID: "@sam:business.test", Name: "Sam", Role: routing.RoleSupervisor},
	}, f.now); err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends a request and decodes the answer into a map.
func (f *fixture) do(method, path, key, body string) (int, map[string]any) {
	f.t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, PathPrefix+path, nil)
	} else {
		r = httptest.NewRequest(method, PathPrefix+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		f.t.Fatalf("%s %s: answer %q is not a JSON object: %v", method, path, w.Body.String(), err)
	}
	return w.Code, out
}

// refused checks an error answer: its status, errcode and field.
func (f *fixture) refused(method, path, key, body string, status int, code, field string) {
	f.t.Helper()
	got, out := f.do(method, path, key, body)
	if got != status || out["errcode"] != code || (field != "" && out["field"] != field) || out["error"] == "" {
		f.t.Errorf("%s %s %s: %d %v, want %d %s field %q", method, path, body, got, out, status, code, field)
	}
}

func TestAuthAndScopes(t *testing.T) {
	f := newFixture(t, dbtest.Open(t, "sqlite"))
	f.refused("GET", "staff", "", "", 401, ErrUnauthorized, "Authorization")
	f.refused("GET", "staff", "cc_nobody", "", 401, ErrUnauthorized, "Authorization")
	f.refused("GET", "staff", providerKey, "", 403, ErrForbidden, "Authorization")
	f.refused("POST", "reveal", acmeKey, `{"tenant":"acme","subject":"Visitor 4F2A","reason":"abuse report 12"}`, 403, ErrForbidden, "Authorization")
	f.refused("GET", "nothing", acmeKey, "", 404, ErrNotFound, "")
	f.refused("PATCH", "staff", acmeKey, "", 405, ErrMethod, "")
	if status, out := f.do("GET", "staff", acmeKey, ""); status != 200 || len(out["staff"].([]any)) != 2 {
		t.Errorf("staff: %d %v", status, out)
	}
	// A revoked key stops working once the keyring reads the keys again.
	if err := f.db.AdminKeys.Revoke(context.Background(), contextapi.KeyHashConfig(acmeKey), f.now); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(refreshEvery)
	f.refused("GET", "staff", acmeKey, "", 401, ErrUnauthorized, "Authorization")
}

func TestStaffEndpoints(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newFixture(t, db)
		dave := `{"user_id":"@dave:business.test","name":"Dave","role":"agent","skills":{"mortgage":4},"capacity":2,` +
			`"languages":["en","pt"],"regions":["north"],"wrap_up":"30s","voice":true}`
		status, out := f.do("POST", "staff", acmeKey, dave)
		if status != 201 || out["user_id"] != "@dave:business.test" || out["wrap_up"] != "30s" || out["voice"] != true || out["source"] != "api" {
			t.Fatalf("add: %d %v", status, out)
		}
		if f.backend.took("staff acme") != 1 {
			t.Errorf("backend told %v", f.backend.calls)
		}
		f.refused("POST", "staff", acmeKey, dave, 409, ErrExists, "user_id")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","name":"Eve","role":"agent","mood":"good"}`, 400, ErrUnknownField, "mood")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","Name":"Eve","role":"agent"}`, 400, ErrUnknownField, "Name")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","name":"Eve","name":"Eva","role":"agent"}`, 400, ErrBadJSON, "name")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","name":"Eve","role":"agent","capacity":"3"}`, 400, ErrBadJSON, "capacity")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","name":"Eve","role":"agent","skills":{"cards":9}}`, 422, ErrInvalid, "skills")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","name":"Eve","role":"boss"}`, 422, ErrInvalid, "role")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","name":"Eve","role":"agent","wrap_up":"soon"}`, 422, ErrInvalid, "wrap_up")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:elsewhere.test","name":"Eve","role":"agent"}`, 422, ErrInvalid, "user_id")
		f.refused("POST", "staff", acmeKey, `[]`, 400, ErrBadJSON, "body")
		f.refused("POST", "staff", acmeKey, `{"user_id":"@eve:business.test","name":"Eve","role":"agent"} {}`, 400, ErrBadJSON, "body")

		status, out = f.do("PUT", "staff/@dave:business.test", acmeKey, `{"name":"Dave","role":"agent","capacity":5}`)
		if status != 200 || out["capacity"] != float64(5) || out["voice"] != false {
			t.Errorf("change: %d %v", status, out)
		}
		f.refused("PUT", "staff/@dave:business.test", acmeKey, `{"user_id":"@eve:business.test","name":"Dave","role":"agent"}`, 422, ErrInvalid, "user_id")
		f.refused("PUT", "staff/@eve:business.test", acmeKey, `{"name":"Eve","role":"agent"}`, 404, ErrNotFound, "user_id")
		// Another tenant neither sees nor touches ACME's staff.
		if _, out = f.do("GET", "staff", globexKey, ""); len(out["staff"].([]any)) != 0 {
			t.Errorf("globex sees %v", out)
		}
		f.refused("DELETE", "staff/@dave:business.test", globexKey, "", 404, ErrNotFound, "user_id")
		f.refused("PUT", "staff/@dave:business.test", globexKey, `{"name":"Dave","role":"agent"}`, 404, ErrNotFound, "user_id")

		if status, _ = f.do("DELETE", "staff/@dave:business.test", acmeKey, ""); status != 200 {
			t.Errorf("remove: %d", status)
		}
		f.refused("DELETE", "staff/@dave:business.test", acmeKey, "", 404, ErrNotFound, "user_id")
		if _, out = f.do("GET", "staff", acmeKey, ""); len(out["staff"].([]any)) != 2 {
			t.Errorf("after removal: %v", out)
		}
		if n := f.backend.took("staff acme"); n != 3 {
			t.Errorf("backend told %d times: %v", n, f.backend.calls)
		}
		// Added again after removal.
		if status, _ = f.do("POST", "staff", acmeKey, dave); status != 201 {
			t.Errorf("add again: %d", status)
		}
	})
}

func TestWorkflowEndpoints(t *testing.T) {
	f := newFixture(t, dbtest.Open(t, "sqlite"))
	status, out := f.do("GET", "workflow", acmeKey, "")
	if status != 200 || out["from"] != "config" || !strings.Contains(out["source"].(string), "mortgages") {
		t.Fatalf("get: %d %v", status, out)
	}
	good := `{"source":"steps:\n  - {account_manager: true, timeout: 30s}\n  - {queue: everyone}\n"}`
	if status, out = f.do("POST", "workflow/validate", acmeKey, good); status != 200 || out["valid"] != true || out["steps"] != float64(2) {
		t.Errorf("validate: %d %v", status, out)
	}
	if f.backend.took("workflow acme") != 0 {
		t.Error("validating replaced the workflow")
	}
	f.refused("POST", "workflow/validate", acmeKey, `{"source":"steps:\n  - {queue: a, timeout: soon}\n"}`, 422, ErrInvalid, "source")
	f.refused("POST", "workflow/validate", acmeKey, `{"source":"steps:\n  - {expression: 'language == \"xx\"'}\n"}`, 422, ErrInvalid, "source")
	f.refused("PUT", "workflow", acmeKey, `{"source":""}`, 422, ErrInvalid, "source")
	f.refused("PUT", "workflow", acmeKey, `{"yaml":"steps: []"}`, 400, ErrUnknownField, "yaml")
	if status, out = f.do("PUT", "workflow", acmeKey, good); status != 200 || out["version"] != float64(1) || out["from"] != "api" {
		t.Errorf("replace: %d %v", status, out)
	}
	if f.backend.took("workflow acme") != 1 {
		t.Errorf("backend: %v", f.backend.calls)
	}
	if _, out = f.do("GET", "workflow", acmeKey, ""); out["from"] != "api" || !strings.Contains(out["source"].(string), "everyone") {
		t.Errorf("after replacing: %v", out)
	}
	if _, out = f.do("GET", "workflow", globexKey, ""); out["from"] != "config" {
		t.Errorf("globex: %v", out)
	}
}

func TestConversationEndpoints(t *testing.T) {
	f := newFixture(t, dbtest.Open(t, "sqlite"))
	f.backend.conversations = []Conversation{{ID: 3, State: "open", Customer: "Visitor 4F2A", Agents: []string{"@carol:business.test"},
		OpenedAt: f.now}}
	status, out := f.do("GET", "conversations?state=open&limit=10&before=9", acmeKey, "")
	if status != 200 || len(out["conversations"].([]any)) != 1 || f.backend.took("conversations acme open 9 10") != 1 {
		t.Errorf("list: %d %v %v", status, out, f.backend.calls)
	}
	f.refused("GET", "conversations?state=lost", acmeKey, "", 422, ErrInvalid, "state")
	f.refused("GET", "conversations?limit=1000", acmeKey, "", 422, ErrInvalid, "limit")
	f.refused("GET", "conversations?tenant=globex", acmeKey, "", 400, ErrUnknownField, "tenant")
	if status, out = f.do("GET", "conversations/3", acmeKey, ""); status != 200 || out["customer"] != "Visitor 4F2A" {
		t.Errorf("get: %d %v", status, out)
	}
	f.refused("GET", "conversations/3", globexKey, "", 404, ErrNotFound, "id")
	f.refused("GET", "conversations/x", acmeKey, "", 422, ErrInvalid, "id")
}

func TestOutboundEndpoints(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newFixture(t, db)
		ctx := context.Background()
		// Alice remembered contact: always; routed to Carol.
		status, out := f.do("POST", "outbound", acmeKey, `{"matrix_id":"@alice:customer.test","reason":"Your mortgage offer","agent":"@carol:business.test"}`)
		if status != 202 || out["state"] != "routing" || out["verdict"] != "allowed" || out["zone_source"] != "tenant" {
			t.Fatalf("alice: %d %v", status, out)
		}
		id := int64(out["id"].(float64))
		if f.backend.took(fmt.Sprintf("outbound acme %d", id)) != 1 {
			t.Errorf("backend: %v", f.backend.calls)
		}
		if status, out = f.do("GET", fmt.Sprintf("outbound/%d", id), acmeKey, ""); status != 200 || out["state"] != "routing" ||
			out["matrix_id"] != "@alice:customer.test" || out["agent"] != "@carol:business.test" || out["verdict"] != "allowed" {
			t.Errorf("get: %d %v", status, out)
		}
		f.refused("GET", fmt.Sprintf("outbound/%d", id), globexKey, "", 404, ErrNotFound, "id")

		// Bob has no standing consent: refused, and the service is not asked to act.
		calls := len(f.backend.calls)
		status, out = f.do("POST", "outbound", acmeKey, `{"matrix_id":"@bob:customer.test","reason":"Hello"}`)
		if status != 202 || out["state"] != "refused" || !hasReason(out, "no_standing_consent") || len(f.backend.calls) != calls {
			t.Errorf("bob: %d %v %v", status, out, f.backend.calls)
		}

		// A dry run decides, stores its decision, and changes nothing else.
		before, _ := db.Outbound.OfCustomer(ctx, "acme", "@alice:customer.test", 10)
		status, out = f.do("POST", "outbound", acmeKey, `{"account_id":"A-1","reason":"Check","dry_run":true}`)
		if status != 200 || out["id"] != nil || out["dry_run"] != true || out["verdict"] != "allowed" {
			t.Errorf("dry run: %d %v", status, out)
		}
		after, _ := db.Outbound.OfCustomer(ctx, "acme", "@alice:customer.test", 10)
		decisions, _ := db.OutboundDecisions.OfCustomer(ctx, "acme", "@alice:customer.test", 10)
		if len(after) != len(before) || len(decisions) != 2 || !decisions[0].DryRun || len(f.backend.calls) != calls {
			t.Errorf("dry run changed things: %d → %d requests, %d decisions, calls %v", len(before), len(after), len(decisions), f.backend.calls)
		}

		// The cap of two a day: the second goes, the third waits for the first to age.
		if status, out = f.do("POST", "outbound", acmeKey, `{"account_id":"A-1","reason":"Again"}`); out["state"] != "routing" {
			t.Errorf("second: %d %v", status, out)
		}
		status, out = f.do("POST", "outbound", acmeKey, `{"matrix_id":"@alice:customer.test","reason":"Third"}`)
		if out["state"] != "deferred" || !hasReason(out, "frequency_cap") || out["until"] != f.now.Add(24*time.Hour).Format(time.RFC3339) {
			t.Errorf("third: %d %v", status, out)
		}

		// Globex: 20:00 UTC is 05:00 in Tokyo, outside its window: deferred to 09:00 there.
		f.backend.facts["@alice:customer.test"] = OutboundFacts{ContactPolicy: outbound.PolicyAlways, ProfileZone: "Asia/Tokyo"}
		status, out = f.do("POST", "outbound", globexKey, `{"matrix_id":"@alice:customer.test","reason":"Hi"}`)
		if out["state"] != "deferred" || out["zone_source"] != "profile" || !hasReason(out, "outside_window") || out["until"] != "2026-03-11T00:00:00Z" {
			t.Errorf("globex: %d %v", status, out)
		}
		status, out = f.do("POST", "outbound", globexKey,
			`{"matrix_id":"@alice:customer.test","reason":"Hi","not_after":"2026-03-10T22:00:00Z"}`)
		if out["state"] != "refused" || !hasReason(out, "no_time_before_end") {
			t.Errorf("globex before not_after: %d %v", status, out)
		}

		// Bad input names its field.
		for _, c := range []struct{ body, code, field string }{
			{`{"reason":"x"}`, ErrInvalid, "matrix_id"},
			{`{"matrix_id":"@a:b","account_id":"A-1","reason":"x"}`, ErrInvalid, "account_id"},
			{`{"matrix_id":"alice","reason":"x"}`, ErrInvalid, "matrix_id"},
			{`{"matrix_id":"@alice:customer.test"}`, ErrInvalid, "reason"},
			{`{"matrix_id":"@alice:customer.test","reason":"x","agent":"@dan:business.test"}`, ErrInvalid, "agent"},
			{`{"matrix_id":"@alice:customer.test","reason":"x","agent":"@sam:business.test"}`, ErrInvalid, "agent"},
			{`{"matrix_id":"@alice:customer.test","reason":"x","queue":"nowhere"}`, ErrInvalid, "queue"},
			{`{"matrix_id":"@alice:customer.test","reason":"x","not_before":"tomorrow"}`, ErrInvalid, "not_before"},
			{`{"matrix_id":"@alice:customer.test","reason":"x","not_before":"2026-03-11T00:00:00Z","not_after":"2026-03-10T00:00:00Z"}`, ErrInvalid, "not_after"},
			{`{"account_id":"A-2","reason":"x"}`, ErrInvalid, "account_id"},
			{`{"matrix_id":"@alice:customer.test","reason":"x","dry_run":"yes"}`, ErrBadJSON, "dry_run"},
			{`{"matrix_id":"@alice:customer.test","reason":"x","priority":1}`, ErrUnknownField, "priority"},
		} {
			status := 422
			if c.code != ErrInvalid {
				status = 400
			}
			f.refused("POST", "outbound", acmeKey, c.body, status, c.code, c.field)
		}
		// A queue the workflow names is accepted.
		if status, out = f.do("POST", "outbound", acmeKey, `{"matrix_id":"@bob:customer.test","reason":"x","queue":"Mortgages","dry_run":true}`); status != 200 {
			t.Errorf("queue: %d %v", status, out)
		}
		// Globex's key cannot use ACME's account IDs.
		f.refused("POST", "outbound", globexKey, `{"account_id":"A-1","reason":"x"}`, 422, ErrInvalid, "account_id")
	})
}

func hasReason(out map[string]any, code string) bool {
	reasons, _ := out["reasons"].([]any)
	for _, r := range reasons {
		if m, ok := r.(map[string]any); ok && m["code"] == code && m["text"] != "" {
			return true
		}
	}
	return false
}

func TestReveal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newFixture(t, db)
		f.refused("POST", "reveal", providerKey, `{"tenant":"acme","subject":"Visitor 4F2A","reason":"why"}`, 422, ErrInvalid, "reason")
		f.refused("POST", "reveal", providerKey, `{"tenant":"initech","subject":"Visitor 4F2A","reason":"abuse report 12"}`, 422, ErrInvalid, "tenant")
		status, out := f.do("POST", "reveal", providerKey, `{"tenant":"acme","subject":"Visitor 4F2A","reason":"abuse report 12"}`)
		if status != 200 || out["matrix_id"] != "@bob:customer.test" || out["conversation_id"] != float64(7) {
			t.Fatalf("reveal: %d %v", status, out)
		}
		f.refused("POST", "reveal", providerKey, `{"tenant":"acme","subject":"Visitor 0000","reason":"abuse report 13"}`, 404, ErrNotFound, "subject")
		audit, err := db.Reveals.OfTenant(context.Background(), "acme")
		if err != nil || len(audit) != 2 || audit[0].Customer != "@bob:customer.test" || audit[0].RequestedBy != "abuse desk" ||
			audit[0].Reason != "abuse report 12" || audit[1].Outcome != database.RevealNotFound {
			t.Errorf("audit: %+v %v", audit, err)
		}
		if f.backend.took("revealed acme Visitor 4F2A") != 1 || f.backend.took("revealed acme Visitor 0000") != 0 {
			t.Errorf("supervisors told: %v", f.backend.calls)
		}
	})
}
