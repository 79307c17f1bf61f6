package contextapi

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/linkcode"
)

func TestPutCustomer(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	body := `{"name":"Ann Lee","tier":"gold","products":["mortgage","savings"],
		"account_manager":"@carol:bank.example","matrix_ids":["@ann:matrix.org","@ann:[::1]:8448"]}`
	got := wantOK[map[string]string](t, request{method: http.MethodPut, path: "customers/ACME-42", body: body}.do(t, h))
	if got["account_id"] != "ACME-42" {
		t.Errorf("answer %v", got)
	}
	want := Customer{AccountID: "ACME-42", Name: "Ann Lee", Tier: "gold", Products: []string{"mortgage", "savings"},
		AccountManager: "@carol:bank.example", MatrixIDs: []string{"@ann:matrix.org", "@ann:[::1]:8448"}}
	if c := store.customers["bank"]; len(c) != 1 || !reflect.DeepEqual(c[0], want) {
		t.Errorf("stored %+v, want %+v", c, want)
	}
	// Charset parameter in any case is fine; an empty record is a valid upsert.
	wantOK[map[string]string](t, request{method: http.MethodPut, path: "customers/ACME-43", contentType: "application/json; charset=UTF-8", body: `{}`}.do(t, h))
}

func TestCustomerValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	list := func(n int, format string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`"`+format+`"`, i)
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	tests := []struct {
		name, body, mentions string
		ok                   bool
	}{
		{"name at limit", `{"name":"` + long(200) + `"}`, "", true},
		{"name too long", `{"name":"` + long(201) + `"}`, "name: is 201 characters", false},
		{"name with newline", `{"name":"Ann\nLee"}`, "name: holds the control", false},
		{"name with NUL", `{"name":"Ann\u0000"}`, "name: holds the control", false},
		{"name with invalid UTF-8", "{\"name\":\"Ann\xff\"}", "name: holds the control or invalid", false},
		{"tier too long", `{"tier":"` + long(65) + `"}`, "tier: is 65 characters", false},
		{"products at limit", `{"products":` + list(100, "p%d") + `}`, "", true},
		{"too many products", `{"products":` + list(101, "p%d") + `}`, "products: has 101 entries", false},
		{"empty product", `{"products":["a",""]}`, "products[1]: is empty", false},
		{"null product", `{"products":["a",null]}`, "products[1]: is empty", false},
		{"duplicate product", `{"products":["a","b","a"]}`, `products[2]: "a" is listed twice`, false},
		{"product too long", `{"products":["` + long(101) + `"]}`, "products[0]: is 101 characters", false},
		{"manager not a Matrix ID", `{"account_manager":"carol"}`, "account_manager:", false},
		{"manager without server", `{"account_manager":"@carol"}`, "account_manager:", false},
		{"matrix IDs at limit", `{"matrix_ids":` + list(50, "@u%d:hs.example") + `}`, "", true},
		{"too many matrix IDs", `{"matrix_ids":` + list(51, "@u%d:hs.example") + `}`, "matrix_ids: has 51 entries", false},
		{"bad matrix ID", `{"matrix_ids":["@a:hs.example","#room:hs.example"]}`, "matrix_ids[1]:", false},
		{"duplicate matrix ID", `{"matrix_ids":["@a:hs.example","@a:hs.example"]}`, "matrix_ids[1]:", false},
		{"matrix ID of another case is another ID", `{"matrix_ids":["@a:hs.example","@A:hs.example"]}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			h := newTestHandler(t, store)
			rec := request{method: http.MethodPut, path: "customers/c1", body: tt.body}.do(t, h)
			if tt.ok {
				wantOK[map[string]string](t, rec)
				return
			}
			wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, tt.mentions)
			if store.calls() != 0 {
				t.Fatal("an invalid customer was stored")
			}
		})
	}
}

func TestPageViews(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	got := wantOK[map[string]int](t, request{path: "pageviews", body: `{"account_id":"c1","url":"https://bank.example/mortgages/fixed","title":"Fixed rates"}`}.do(t, h))
	if got["stored"] != 1 {
		t.Errorf("answer %v", got)
	}
	batch := `{"views":[
		{"account_id":"c1","url":"https://bank.example/a","time":"2025-03-14T10:30:00+01:00"},
		{"account_id":"c2","url":"http://bank.example:8080/b?q=1#top","time":"2025-02-12T09:30:00.5Z"}]}`
	if got := wantOK[map[string]int](t, request{path: "pageviews", body: batch}.do(t, h)); got["stored"] != 2 {
		t.Errorf("answer %v", got)
	}
	want := []PageView{
		{AccountID: "c1", URL: "https://bank.example/mortgages/fixed", Title: "Fixed rates", Time: testNow},
		{AccountID: "c1", URL: "https://bank.example/a", Time: testNow},
		{AccountID: "c2", URL: "http://bank.example:8080/b?q=1#top", Time: time.Date(2025, 2, 12, 9, 30, 0, 5e8, time.UTC)},
	}
	views := store.views["bank"]
	if len(views) != len(want) {
		t.Fatalf("stored %+v", views)
	}
	for i := range want {
		if !views[i].Time.Equal(want[i].Time) {
			t.Errorf("view %d time %v, want %v", i, views[i].Time, want[i].Time)
		}
		views[i].Time = want[i].Time
		if views[i] != want[i] {
			t.Errorf("view %d = %+v, want %+v", i, views[i], want[i])
		}
	}
}

func TestPageViewValidation(t *testing.T) {
	view := func(fields string) string { return `{"account_id":"c1","url":"https://bank.example/"` + fields + `}` }
	at := func(d time.Duration) string { return `,"time":"` + testNow.Add(d).Format(time.RFC3339) + `"` }
	tests := []struct {
		name, body, mentions string
		ok                   bool
	}{
		{"no account or visitor", `{"url":"https://bank.example/"}`, "account_id: account_id or visitor_code is required", false},
		{"both", view(`,"visitor_code":"VISIT-7K3Q-9P2M-4XZA"`), "visitor_code: give account_id or visitor_code, not both", false},
		{"bad account id", `{"account_id":"a b","url":"https://bank.example/"}`, "account_id: holds ' '", false},
		{"link code as visitor code", `{"visitor_code":"LINK-7K3Q-9P2M-4XZA","url":"https://bank.example/"}`, "visitor_code: is not a visitor code", false},
		{"garbage visitor code", `{"visitor_code":"hello","url":"https://bank.example/"}`, "visitor_code: is not a visitor code", false},
		{"no url", `{"account_id":"c1"}`, "url: is required", false},
		{"relative url", `{"account_id":"c1","url":"/mortgages"}`, "url: must be an absolute http or https URL", false},
		{"ftp url", `{"account_id":"c1","url":"ftp://bank.example/"}`, "url: must be an absolute", false},
		{"javascript url", `{"account_id":"c1","url":"javascript:alert(1)"}`, "url: must be an absolute", false},
		{"url with password", `{"account_id":"c1","url":"https://ann:pw@bank.example/"}`, "url: must not hold a user name", false},
		{"url with space", `{"account_id":"c1","url":"https://bank.example/a b"}`, "url: holds a space", false},
		{"url too long", `{"account_id":"c1","url":"https://bank.example/` + strings.Repeat("a", 2048) + `"}`, "url: is 2069 bytes", false},
		{"title too long", view(`,"title":"` + strings.Repeat("t", 501) + `"`), "title: is 501 characters", false},
		{"title with tab", view(`,"title":"a\tb"`), "title: holds the control", false},
		{"time not RFC 3339", view(`,"time":"14/03/2025 09:30"`), "time: is not an RFC 3339 time", false},
		{"time without zone", view(`,"time":"2025-03-14T09:30:00"`), "time: is not an RFC 3339 time", false},
		{"time 5 minutes ahead", view(at(5 * time.Minute)), "", true},
		{"time 6 minutes ahead", view(at(6 * time.Minute)), "time: is more than 5m0s in the future", false},
		{"time 30 days back", view(at(-30 * 24 * time.Hour)), "", true},
		{"time 30 days and a second back", view(at(-30*24*time.Hour - time.Second)), "time: is more than 30 days ago", false},
		{"empty batch", `{"views":[]}`, "views: has 0 views", false},
		{"batch at limit", `{"views":[` + strings.TrimSuffix(strings.Repeat(view("")+",", 100), ",") + `]}`, "", true},
		{"batch too large", `{"views":[` + strings.TrimSuffix(strings.Repeat(view("")+",", 101), ",") + `]}`, "views: has 101 views", false},
		{"batch and single", `{"account_id":"c1","views":[` + view("") + `]}`, "views: a batch holds its views in views only", false},
		{"bad view names its index", `{"views":[` + view("") + `,` + view("") + `,{"account_id":"c1","url":"mailto:a@b"}]}`, "views[2].url: must be an absolute", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			h := newTestHandler(t, store)
			rec := request{path: "pageviews", body: tt.body}.do(t, h)
			if tt.ok {
				wantOK[map[string]int](t, rec)
				return
			}
			wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, tt.mentions)
			if store.calls() != 0 {
				t.Fatal("an invalid view was stored")
			}
		})
	}
	// A field that is unknown inside a batch's view is named.
	rec := request{path: "pageviews", body: `{"views":[{"account_id":"a","url":"https://x.example/","extra":{"y":1}}]}`}.do(t, newTestHandler(t, newMemStore()))
	wantError(t, rec, http.StatusBadRequest, ErrUnknownField, `"extra"`)
}

// TestBatchWithOneBadViewStoresNothing: the last view is bad, so the first 99 must
// not be stored either; the same for an unknown visitor code, which only the store
// can tell.
func TestBatchWithOneBadViewStoresNothing(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	good := `{"account_id":"c1","url":"https://bank.example/"}`
	bad := `{"account_id":"c1","url":"https://bank.example/","time":"2020-01-01T00:00:00Z"}`
	body := `{"views":[` + strings.Repeat(good+",", 99) + bad + `]}`
	rec := request{path: "pageviews", body: body}.do(t, h)
	wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, "views[99].time")

	unknown := `{"visitor_code":"VISIT-7K3Q-9P2M-4XZA","url":"https://bank.example/"}`
	rec = request{path: "pageviews", body: `{"views":[` + good + "," + unknown + `]}`}.do(t, h)
	wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, "visitor_code: unknown or expired")
	if store.calls() != 0 {
		t.Fatalf("stored %+v", store.views)
	}
}

func TestLinkCode(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	got := wantOK[codeResponse](t, request{path: "linkcodes", body: `{"account_id":"ACME-42","ttl_seconds":120}`}.do(t, h))
	kind, code, ok := linkcode.Parse(got.Code)
	if !ok || kind != linkcode.Link || code != got.Code {
		t.Fatalf("code %q is not a canonical link code", got.Code)
	}
	if got.ExpiresAt != "2025-03-14T09:32:00Z" {
		t.Errorf("expires_at %q", got.ExpiresAt)
	}
	want := Code{Kind: linkcode.Link, Hash: linkcode.Hash(got.Code), AccountID: "ACME-42", ExpiresAt: testNow.Add(2 * time.Minute)}
	if c := store.codes["bank"]; len(c) != 1 || c[0] != want {
		t.Errorf("stored %+v, want %+v", c, want)
	}
	if strings.Contains(fmt.Sprint(store.codes), got.Code) {
		t.Error("the code itself was stored")
	}

	tests := []struct{ body, mentions string }{
		{`{}`, "account_id: is required"},
		{`{"ttl_seconds":600}`, "account_id: is required"},
		{`{"account_id":"a/b"}`, "account_id: holds '/'"},
		{`{"account_id":"c1","ttl_seconds":0}`, "ttl_seconds: is 0"},
		{`{"account_id":"c1","ttl_seconds":-5}`, "ttl_seconds: is -5"},
		{`{"account_id":"c1","ttl_seconds":86401}`, "ttl_seconds: is 86401"},
	}
	for _, tt := range tests {
		rec := request{path: "linkcodes", body: tt.body}.do(t, h)
		wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, tt.mentions)
	}
	if len(store.codes["bank"]) != 1 {
		t.Errorf("invalid requests stored codes: %+v", store.codes)
	}
}

// TestVisitorCodeFlow: a visitor code from the API is accepted in page views, however
// the site writes it, and reaches the store as the same hash.
func TestVisitorCodeFlow(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	got := wantOK[codeResponse](t, request{path: "visitorcodes", body: `{}`}.do(t, h))
	if kind, _, ok := linkcode.Parse(got.Code); !ok || kind != linkcode.Visitor {
		t.Fatalf("code %q is not a visitor code", got.Code)
	}
	if got.ExpiresAt != "2025-03-14T09:40:00Z" {
		t.Errorf("default expiry %q, want 600 s after now", got.ExpiresAt)
	}
	if c := store.codes["bank"]; len(c) != 1 || c[0].Kind != linkcode.Visitor || c[0].AccountID != "" {
		t.Errorf("stored %+v", c)
	}
	wantOK[codeResponse](t, request{path: "visitorcodes", body: `{"ttl_seconds":86400}`}.do(t, h))

	sloppy := strings.ToLower(strings.ReplaceAll(got.Code, "-", " "))
	wantOK[map[string]int](t, request{path: "pageviews", body: `{"visitor_code":"` + sloppy + `","url":"https://bank.example/"}`}.do(t, h))
	if v := store.views["bank"]; len(v) != 1 || v[0].VisitorCodeHash != linkcode.Hash(got.Code) || v[0].AccountID != "" {
		t.Errorf("stored %+v", v)
	}
	// The other tenant's store never saw the code.
	rec := request{path: "pageviews", key: shopKey, body: `{"visitor_code":"` + got.Code + `","url":"https://shop.example/"}`}.do(t, h)
	wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, "visitor_code")

	rec = request{path: "visitorcodes", body: `{"ttl_seconds":86401}`}.do(t, h)
	wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, "ttl_seconds")
	rec = request{path: "visitorcodes", body: `{"account_id":"c1"}`}.do(t, h)
	wantError(t, rec, http.StatusBadRequest, ErrUnknownField, "account_id")
}
