package fakehs

import (
	"context"
	"encoding/json"
	"io"
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

func TestCreateRoomStateAndMembers(t *testing.T) {
	s := start(t)
	const as = "?user_id=@cc_1:bench.local"
	code, out := call(t, s, "POST", "/_matrix/client/v3/createRoom"+as, "as-secret",
		`{"name":"Desk","invite":["@agent:bench.local"],"creation_content":{"m.federate":false},"power_level_content_override":{"users":{"@cc_1:bench.local":100}}}`)
	room, _ := out["room_id"].(string)
	if code != 200 || !strings.HasPrefix(room, "!") {
		t.Fatalf("createRoom: %d %v", code, out)
	}
	if _, other := call(t, s, "POST", "/_matrix/client/v3/createRoom"+as, "as-secret", `{}`); other["room_id"] == room {
		t.Fatal("room IDs must be fresh")
	}
	// The creator is joined, the invitee invited.
	_, out = call(t, s, "GET", "/_matrix/client/v3/rooms/"+room+"/joined_members"+as, "as-secret", "")
	if joined, _ := out["joined"].(map[string]any); len(joined) != 1 || joined["@cc_1:bench.local"] == nil {
		t.Fatalf("joined members: %v", out)
	}
	// State: the empty state key (trailing slash, as mautrix sends it) and a named one.
	if code, out = call(t, s, "PUT", "/_matrix/client/v3/rooms/"+room+"/state/m.room.power_levels/"+as, "as-secret", `{"events_default":100}`); code != 200 || out["event_id"] == nil {
		t.Fatalf("state with empty key: %d %v", code, out)
	}
	if code, _ = call(t, s, "PUT", "/_matrix/client/v3/rooms/"+room+"/state/m.space.child/!x:bench.local"+as, "as-secret", `{"via":["bench.local"]}`); code != 200 {
		t.Fatalf("state with a key: %d", code)
	}
	if _, out = call(t, s, "GET", "/_matrix/client/v3/rooms/"+room+"/state/m.room.power_levels/"+as, "as-secret", ""); out["events_default"] != float64(100) {
		t.Fatalf("state read back: %v", out)
	}
	if code, _ = call(t, s, "PUT", "/_matrix/client/v3/rooms/"+room+"/state/m.room.name/?user_id=@stranger:bench.local", "as-secret", `{"name":"x"}`); code != 403 {
		t.Fatalf("state from a non-member: %d, want 403", code)
	}
	// Invite and kick, refused when there is nothing to do.
	invite := func(user string) int {
		code, _ := call(t, s, "POST", "/_matrix/client/v3/rooms/"+room+"/invite"+as, "as-secret", `{"user_id":"`+user+`"}`)
		return code
	}
	kick := func(user string) int {
		code, _ := call(t, s, "POST", "/_matrix/client/v3/rooms/"+room+"/kick"+as, "as-secret", `{"user_id":"`+user+`"}`)
		return code
	}
	if invite("@dave:bench.local") != 200 || kick("@dave:bench.local") != 200 || kick("@dave:bench.local") != 403 || invite("@cc_1:bench.local") != 403 {
		t.Fatal("invite/kick answers")
	}
	// Sends need membership in rooms the fake knows.
	if code, _ = call(t, s, "PUT", "/_matrix/client/v3/rooms/"+room+"/send/m.room.message/t1?user_id=@dave:bench.local", "as-secret", `{}`); code != 403 {
		t.Fatalf("send from a kicked user: %d, want 403", code)
	}
	counts := s.Counts()
	if counts["createRoom"] != 2 || counts["state"] != 2 || counts["invite"] != 1 || counts["kick"] != 1 {
		t.Fatalf("counts: %v", counts)
	}
}

func TestProfileAndMedia(t *testing.T) {
	s := start(t)
	const as = "?user_id=@cc_1:bench.local"
	if code, _ := call(t, s, "GET", "/_matrix/client/v3/profile/@cc_1:bench.local/displayname"+as, "as-secret", ""); code != 404 {
		t.Fatalf("unset display name: %d", code)
	}
	if code, _ := call(t, s, "PUT", "/_matrix/client/v3/profile/@cc_1:bench.local/displayname"+as, "as-secret", `{"displayname":"Visitor 4F2A"}`); code != 200 {
		t.Fatalf("set display name: %d", code)
	}
	if _, out := call(t, s, "GET", "/_matrix/client/v3/profile/@cc_1:bench.local/displayname"+as, "as-secret", ""); out["displayname"] != "Visitor 4F2A" {
		t.Fatalf("display name: %v", out)
	}
	s.PutMedia("remote.example", "abc", []byte("remote file"), "text/plain")
	req, _ := http.NewRequest("GET", s.URL+"/_matrix/client/v1/media/download/remote.example/abc", nil)
	req.Header.Set("Authorization", "Bearer as-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(data) != "remote file" {
		t.Fatalf("download: %d %q", resp.StatusCode, data)
	}
	code, out := call(t, s, "POST", "/_matrix/media/v3/upload"+as, "as-secret", "copy")
	uri, _ := out["content_uri"].(string)
	if code != 200 || !strings.HasPrefix(uri, "mxc://bench.local/") {
		t.Fatalf("upload: %d %v", code, out)
	}
	if code, _ = call(t, s, "GET", "/_matrix/client/v1/media/download/bench.local/"+strings.TrimPrefix(uri, "mxc://bench.local/"), "as-secret", ""); code != 200 {
		t.Fatalf("download of the upload: %d", code)
	}
	if code, _ = call(t, s, "GET", "/_matrix/client/v1/media/download/bench.local/nothing", "as-secret", ""); code != 404 {
		t.Fatalf("unknown media: %d", code)
	}
}
