package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestSplitServerName(t *testing.T) {
	for _, c := range []struct {
		name string
		host string
		port int
		ok   bool
	}{
		{"example.org", "example.org", 0, true},
		{"example.org:8448", "example.org", 8448, true},
		{"localhost:8481", "localhost", 8481, true},
		{"1.2.3.4", "1.2.3.4", 0, true},
		{"1.2.3.4:80", "1.2.3.4", 80, true},
		{"[::1]", "[::1]", 0, true},
		{"[::1]:8448", "[::1]", 8448, true},
		{"", "", 0, false},
		{"example.org:", "", 0, false},
		{"example.org:0", "", 0, false},
		{"example.org:65536", "", 0, false},
		{"example.org:+80", "", 0, false},
		{"exa mple.org", "", 0, false},
		{"evil.org/path", "", 0, false},
		{"user@evil.org", "", 0, false},
		{"[::1", "", 0, false},
		{"[1.2.3.4]", "", 0, false},
		{":8448", "", 0, false},
	} {
		host, port, ok := splitServerName(c.name)
		if ok != c.ok || (ok && (host != c.host || port != c.port)) {
			t.Errorf("splitServerName(%q) = %q, %d, %v; want %q, %d, %v", c.name, host, port, ok, c.host, c.port, c.ok)
		}
	}
}

// fakeUserinfo answers the OpenID userinfo endpoint: tokens map to subjects, others 401.
func fakeUserinfo(subs map[string]string, hosts *[]string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+userinfoPath, func(w http.ResponseWriter, r *http.Request) {
		if hosts != nil {
			*hosts = append(*hosts, r.Host)
		}
		sub, ok := subs[r.URL.Query().Get("access_token")]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errcode":"M_UNKNOWN_TOKEN","error":"Access Token unknown or expired"}`)
			return
		}
		fmt.Fprintf(w, `{"sub":%q}`, sub)
	})
	return mux
}

func TestVerifyAtTheLocalHomeserver(t *testing.T) {
	var calls atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fakeUserinfo(map[string]string{"good": "@sam:biz.example", "other": "@sam:evil.example", "junk": "not a user"}, nil).ServeHTTP(w, r)
	}))
	defer hs.Close()
	v, err := NewVerifier(VerifierOptions{Local: map[string]string{"biz.example": hs.URL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if u, err := v.Verify(ctx, "biz.example", "good"); err != nil || u != sam {
		t.Fatalf("good token: %q %v", u, err)
	}
	for token, why := range map[string]string{
		"other":    "the server vouched for another server's user",
		"junk":     "the server answered with no user ID",
		"forged":   "the server does not know the token",
		"a b":      "malformed",
		"":         "empty",
		"x\u00e9y": "not ASCII",
	} {
		if _, err := v.Verify(ctx, "biz.example", token); !errors.Is(err, ErrTokenRefused) {
			t.Errorf("%s: %v", why, err)
		}
	}
	before := calls.Load()
	if _, err := v.Verify(ctx, "biz.example", strings.Repeat("a", maxOpenIDToken+1)); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("long token: %v", err)
	}
	if _, err := v.Verify(ctx, "evil.org/x", "good"); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("bad server name: %v", err)
	}
	if calls.Load() != before {
		t.Error("malformed input reached the homeserver")
	}
}

// A token presented for a server is asked of that server over federation, and it can
// vouch only for its own users.
func TestVerifyOverFederation(t *testing.T) {
	var hosts []string
	fed := httptest.NewUnstartedServer(nil)
	name := fed.Listener.Addr().String() // "127.0.0.1:port": an IP literal with a port
	fed.Config.Handler = fakeUserinfo(map[string]string{"good": "@sam:" + name, "liar": "@sam:biz.example"}, &hosts)
	fed.StartTLS()
	defer fed.Close()
	ctx := context.Background()

	v, err := NewVerifier(VerifierOptions{InsecureTLS: true, PrivateAddresses: true})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := v.Verify(ctx, name, "good"); err != nil || u.String() != "@sam:"+name {
		t.Fatalf("good: %q %v", u, err)
	}
	if len(hosts) != 1 || hosts[0] != name {
		t.Fatalf("Host headers %v, want the server name", hosts)
	}
	if _, err := v.Verify(ctx, name, "liar"); !errors.Is(err, ErrTokenRefused) {
		t.Fatalf("a server vouching for another's user: %v", err)
	}
	if _, err := v.Verify(ctx, name, "forged"); !errors.Is(err, ErrTokenRefused) {
		t.Fatalf("forged: %v", err)
	}

	// Without the test-bed settings: loopback is not called, a self-signed certificate
	// is not trusted, and the token never shows in the error.
	strict, _ := NewVerifier(VerifierOptions{})
	_, err = strict.Verify(ctx, name, "good-secret-token")
	if !errors.Is(err, ErrHomeserverUnreachable) || !strings.Contains(err.Error(), "non-public") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("loopback without PrivateAddresses: %v", err)
	}
	untrusting, _ := NewVerifier(VerifierOptions{PrivateAddresses: true})
	_, err = untrusting.Verify(ctx, name, "good-secret-token")
	if !errors.Is(err, ErrHomeserverUnreachable) || !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("self-signed without InsecureTLS: %v", err)
	}
}

// A local address that does not serve the federation endpoint (separate listeners)
// falls back to federation.
func TestVerifyFallsBackToFederation(t *testing.T) {
	fed := httptest.NewUnstartedServer(nil)
	name := fed.Listener.Addr().String()
	fed.Config.Handler = fakeUserinfo(map[string]string{"good": "@sam:" + name}, nil)
	fed.StartTLS()
	defer fed.Close()
	clientOnly := httptest.NewServer(http.NotFoundHandler())
	defer clientOnly.Close()
	v, _ := NewVerifier(VerifierOptions{Local: map[string]string{name: clientOnly.URL}, InsecureTLS: true, PrivateAddresses: true})
	if u, err := v.Verify(context.Background(), name, "good"); err != nil || u.String() != "@sam:"+name {
		t.Fatalf("fallback: %q %v", u, err)
	}
}

func TestVerifyUnreachable(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer hs.Close()
	v, _ := NewVerifier(VerifierOptions{Local: map[string]string{"biz.example": hs.URL}})
	if _, err := v.Verify(context.Background(), "biz.example", "tok"); !errors.Is(err, ErrHomeserverUnreachable) {
		t.Fatalf("502: %v", err)
	}
	hs.Close()
	if _, err := v.Verify(context.Background(), "biz.example", "tok"); !errors.Is(err, ErrHomeserverUnreachable) {
		t.Fatalf("closed: %v", err)
	}
	if _, err := NewVerifier(VerifierOptions{Local: map[string]string{"x": "ftp://x"}}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}
