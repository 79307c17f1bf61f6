package adminapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// TestRecordingRoutes: a conversation's recordings are listed with both directions
// joined, and each direction downloads as its file; another tenant's key finds
// neither (404, as for one that never was), a recording still written is refused,
// and a Range request gets part of the file.
func TestRecordingRoutes(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testRecordingRoutes(t, dbtest.Open(t, dialect)) })
	}
}

func testRecordingRoutes(t *testing.T, db *database.Database) {
	ctx := context.Background()
	f := newFixture(t, db)
	dir := t.TempDir()
	f.h.SetRecordingsDir(dir)
	started := time.Date(2026, 3, 10, 19, 0, 0, 0, time.UTC)
	add := func(tenant string, call, conv int64, direction, body string, stopped bool) int64 {
		t.Helper()
		rel := filepath.Join(tenant, "call"+strconv.FormatInt(call, 10)+"-"+direction+".ogg")
		if err := os.MkdirAll(filepath.Join(dir, tenant), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		recID, err := db.Recordings().Add(ctx, &database.Recording{TenantID: tenant, Call: call, Conversation: conv,
			Direction: direction, Path: rel, StartedAt: started})
		if err != nil {
			t.Fatal(err)
		}
		if stopped {
			err = db.Recordings().Stop(ctx, recID, started.Add(time.Minute), int64(len(body)), time.Minute, "call_ended")
		}
		if err != nil {
			t.Fatal(err)
		}
		return recID
	}
	rec := add("acme", 11, 7, "customer", "OggS customer audio", true)
	add("acme", 11, 7, "agent", "OggS agent audio", true)
	live := add("acme", 12, 7, "customer", "OggS", false)
	add("acme", 12, 7, "agent", "OggS", false)
	theirs := add("globex", 13, 8, "customer", "OggS globex", true)

	status, out := f.do("GET", "recordings?conversation=7", acmeKey, "")
	list, _ := out["recordings"].([]any)
	if status != 200 || len(list) != 2 {
		t.Fatalf("acme's recordings: %d %v", status, out)
	}
	first := list[0].(map[string]any)
	dirs, _ := first["directions"].(map[string]any)
	cust, _ := dirs["customer"].(map[string]any)
	if first["id"] != float64(rec) || first["call"] != float64(11) || first["stop_reason"] != "call_ended" || len(dirs) != 2 ||
		cust["path"] != "recordings/"+strconv.FormatInt(rec, 10)+"/customer" || cust["duration_ms"] != float64(60000) {
		t.Errorf("the first recording: %v", first)
	}
	if second := list[1].(map[string]any); second["id"] != float64(live) || second["stopped_at"] != nil {
		t.Errorf("the recording in progress: %v", second)
	}
	if status, out := f.do("GET", "recordings?conversation=7", globexKey, ""); status != 200 || len(out["recordings"].([]any)) != 0 {
		t.Errorf("globex lists acme's recordings: %d %v", status, out)
	}
	f.refused("GET", "recordings", acmeKey, "", 422, ErrInvalid, "conversation")
	f.refused("GET", "recordings?conversation=7&tenant=globex", acmeKey, "", 400, ErrUnknownField, "tenant")
	f.refused("GET", "recordings?conversation=7", providerKey, "", 403, ErrForbidden, "Authorization")
	f.refused("GET", "recordings?conversation=7", "", "", 401, ErrUnauthorized, "Authorization")

	get := func(key, path, rng string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", PathPrefix+path, nil)
		r.Header.Set("Authorization", "Bearer "+key)
		if rng != "" {
			r.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w
	}
	for direction, body := range map[string]string{"customer": "OggS customer audio", "agent": "OggS agent audio"} {
		w := get(acmeKey, "recordings/"+strconv.FormatInt(rec, 10)+"/"+direction, "")
		if w.Code != 200 || w.Body.String() != body || w.Header().Get("Content-Type") != "audio/ogg; codecs=opus" ||
			w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("downloading %s: %d %q %v", direction, w.Code, w.Body.String(), w.Header())
		}
	}
	if w := get(acmeKey, "recordings/"+strconv.FormatInt(rec, 10)+"/customer", "bytes=5-12"); w.Code != http.StatusPartialContent || w.Body.String() != "customer" {
		t.Errorf("a range: %d %q", w.Code, w.Body.String())
	}
	recPath := "recordings/" + strconv.FormatInt(rec, 10) + "/customer"
	f.refused("GET", recPath, globexKey, "", 404, ErrNotFound, "id")
	f.refused("GET", "recordings/"+strconv.FormatInt(theirs, 10)+"/customer", acmeKey, "", 404, ErrNotFound, "id")
	f.refused("GET", "recordings/"+strconv.FormatInt(rec, 10)+"/supervisor", acmeKey, "", 422, ErrInvalid, "direction")
	f.refused("GET", "recordings/x/customer", acmeKey, "", 422, ErrInvalid, "id")
	f.refused("GET", "recordings/"+strconv.FormatInt(live, 10)+"/agent", acmeKey, "", 409, ErrInProgress, "id")
	f.refused("DELETE", recPath, acmeKey, "", 405, ErrMethod, "")
	// A file deleted under the row (retention, by hand) is gone, not an error.
	if err := os.Remove(filepath.Join(dir, "acme", "call11-agent.ogg")); err != nil {
		t.Fatal(err)
	}
	f.refused("GET", "recordings/"+strconv.FormatInt(rec, 10)+"/agent", acmeKey, "", 404, ErrNotFound, "id")
}
