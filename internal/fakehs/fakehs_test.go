package fakehs

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{ASToken: "as-secret", Domain: "bench.local", SenderLocalpart: "sender", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func call(t *testing.T, s *Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
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
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestVersionsAndWhoami(t *testing.T) {
	s := start(t)
	code, out := call(t, s, "GET", "/_matrix/client/versions", "", "")
	if code != 200 || out["versions"] == nil {
		t.Fatalf("versions: %d %v", code, out)
	}
	_, out = call(t, s, "GET", "/_matrix/client/v3/account/whoami?user_id=@acme:bench.local", "as-secret", "")
	if out["user_id"] != "@acme:bench.local" {
		t.Fatalf("whoami with user_id: %v", out)
	}
	_, out = call(t, s, "GET", "/_matrix/client/v3/account/whoami", "as-secret", "")
	if out["user_id"] != "@sender:bench.local" {
		t.Fatalf("whoami without user_id: %v", out)
	}
}

func TestAuthRejected(t *testing.T) {
	s := start(t)
	if code, out := call(t, s, "GET", "/_matrix/client/v3/account/whoami", "", ""); code != 401 || out["errcode"] != "M_MISSING_TOKEN" {
		t.Fatalf("missing token: %d %v", code, out)
	}
	if code, out := call(t, s, "PUT", "/_matrix/client/v3/rooms/!r:x/send/m.room.message/1", "wrong", "{}"); code != 401 || out["errcode"] != "M_UNKNOWN_TOKEN" {
		t.Fatalf("wrong token: %d %v", code, out)
	}
	if s.Sends() != 0 {
		t.Fatal("a rejected send was counted")
	}
}

func TestSendDedupeAndWait(t *testing.T) {
	s := start(t)
	send := func(user, txn string) string {
		code, out := call(t, s, "PUT", "/_matrix/client/v3/rooms/!r:x/send/m.room.message/"+txn+"?user_id="+user, "as-secret", `{"body":"hi"}`)
		if code != 200 {
			t.Fatalf("send: %d %v", code, out)
		}
		return out["event_id"].(string)
	}
	first := send("@acme:bench.local", "t1")
	if again := send("@acme:bench.local", "t1"); again != first {
		t.Fatalf("repeated txn got %s, want %s", again, first)
	}
	// The same txn ID from another user is another event.
	if other := send("@globex:bench.local", "t1"); other == first {
		t.Fatal("txn IDs must be scoped to the sender")
	}
	if s.Sends() != 2 || s.SendsIn("!r:x") != 2 {
		t.Fatalf("sends = %d, in room = %d; want 2", s.Sends(), s.SendsIn("!r:x"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go func() {
		// Not via send: t.Fatal must not be called from another goroutine.
		req, _ := http.NewRequest("PUT", s.URL+"/_matrix/client/v3/rooms/!r:x/send/m.room.message/t2?user_id=@acme:bench.local", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer as-secret")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if err := s.WaitSends(ctx, 3); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterAndUnrecognized(t *testing.T) {
	s := start(t)
	body := `{"username":"acme","type":"m.login.application_service"}`
	if code, _ := call(t, s, "POST", "/_matrix/client/v3/register", "as-secret", body); code != 200 {
		t.Fatalf("first register: %d", code)
	}
	if _, out := call(t, s, "POST", "/_matrix/client/v3/register", "as-secret", body); out["errcode"] != "M_USER_IN_USE" {
		t.Fatalf("second register: %v", out)
	}
	if code, out := call(t, s, "GET", "/_matrix/client/v3/nonsense", "as-secret", ""); code != 404 || out["errcode"] != "M_UNRECOGNIZED" {
		t.Fatalf("unknown path: %d %v", code, out)
	}
	if s.Unrecognized()["GET /_matrix/client/v3/nonsense"] != 1 {
		t.Fatalf("unrecognized not recorded: %v", s.Unrecognized())
	}
}
