package dashboard

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
)

// userinfoPath is the federation endpoint that tells who holds an OpenID token.
const userinfoPath = "/_matrix/federation/v1/openid/userinfo"

// Errors of Verify. ErrTokenRefused: the homeserver does not know the token, or the
// token does not belong to a user of that server. ErrHomeserverUnreachable: no answer.
var (
	ErrTokenRefused          = errors.New("the homeserver did not confirm the token")
	ErrHomeserverUnreachable = errors.New("the homeserver could not be reached")
)

// maxOpenIDToken bounds what is forwarded to a homeserver. Synapse's and Dendrite's
// tokens are 24-32 characters.
const maxOpenIDToken = 1024

// VerifierOptions say how to reach homeservers.
type VerifierOptions struct {
	// Local maps server names to client-API base URLs asked directly: the service's own
	// homeserver (homeserver.domain → homeserver.address), which may not be reachable
	// over federation from where the service runs. Other servers are found by Matrix
	// server discovery and asked over federation HTTPS.
	Local map[string]string
	// InsecureTLS accepts any certificate and PrivateAddresses allows loopback and
	// private addresses over federation: for test beds, never in production (a user
	// could otherwise make the service call addresses inside its own network).
	InsecureTLS      bool
	PrivateAddresses bool
	// Timeout bounds one verification (0: 10 s).
	Timeout time.Duration
}

// Verifier asks a user's homeserver who holds an OpenID token (MSC1960: the token a
// widget gets from the client with get_openid).
type Verifier struct {
	local   map[string]*url.URL
	http    *http.Client // the local homeservers
	fedHTTP *http.Client // federation: dials the target resolved for the request
	wkHTTP  *http.Client // .well-known lookups
	timeout time.Duration
}

// NewVerifier checks the local URLs and sets up the clients.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	v := &Verifier{local: map[string]*url.URL{}, timeout: opts.Timeout}
	if v.timeout <= 0 {
		v.timeout = 10 * time.Second
	}
	for name, base := range opts.Local {
		u, err := url.Parse(strings.TrimSuffix(base, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("dashboard: homeserver URL of %s must be an http(s) URL, got %q", name, base)
		}
		v.local[name] = u
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.http = &http.Client{Timeout: v.timeout, CheckRedirect: noRedirect}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: dialControl(opts.PrivateAddresses)}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: opts.InsecureTLS}
	v.fedHTTP = &http.Client{
		Timeout:       v.timeout,
		CheckRedirect: noRedirect, // federation requests are not redirected
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				t, ok := ctx.Value(targetKey{}).(target)
				if !ok {
					return nil, errors.New("no resolved server")
				}
				return dialer.DialContext(ctx, network, t.Addr)
			},
			TLSClientConfig:       tlsConfig,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: v.timeout,
			IdleConnTimeout:       90 * time.Second,
		},
	}
	v.wkHTTP = &http.Client{
		Timeout: v.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 || req.URL.Scheme != "https" {
				return errors.New("too many or insecure redirects")
			}
			return nil
		},
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			TLSClientConfig:     tlsConfig,
			TLSHandshakeTimeout: 5 * time.Second,
		},
	}
	return v, nil
}

// Verify returns the user who holds accessToken, as serverName's homeserver says, and
// checks that the user belongs to that server: a server can vouch only for its own.
func (v *Verifier) Verify(ctx context.Context, serverName, accessToken string) (id.UserID, error) {
	if accessToken == "" || len(accessToken) > maxOpenIDToken || strings.ContainsFunc(accessToken, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", fmt.Errorf("%w: malformed token", ErrTokenRefused)
	}
	if _, _, ok := splitServerName(serverName); !ok {
		return "", fmt.Errorf("%w: invalid server name", ErrTokenRefused)
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	var sub id.UserID
	var err error
	if base, ok := v.local[serverName]; ok {
		sub, err = v.askLocal(ctx, base, accessToken)
		if errors.Is(err, errNoEndpoint) {
			sub, err = v.askFederation(ctx, serverName, accessToken)
		}
	} else {
		sub, err = v.askFederation(ctx, serverName, accessToken)
	}
	if err != nil {
		return "", err
	}
	_, server, perr := sub.Parse()
	if perr != nil || sub.Localpart() == "" {
		return "", fmt.Errorf("%w: the homeserver answered with an invalid user ID", ErrTokenRefused)
	}
	if server != serverName {
		return "", fmt.Errorf("%w: %s answered for a user of %s", ErrTokenRefused, serverName, server)
	}
	return sub, nil
}

// errNoEndpoint: the local address does not serve the federation endpoint (a
// homeserver with separate client and federation listeners); federation is tried next.
var errNoEndpoint = errors.New("no userinfo endpoint")

func (v *Verifier) askLocal(ctx context.Context, base *url.URL, token string) (id.UserID, error) {
	u := *base
	u.Path += userinfoPath
	u.RawQuery = url.Values{"access_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	return v.userinfo(req, true)
}

// userinfo sends the request and reads the user from the answer. local: a 404 means
// the address does not serve the endpoint (errNoEndpoint) rather than a refusal.
func (v *Verifier) userinfo(req *http.Request, local bool) (id.UserID, error) {
	client := v.fedHTTP
	if local {
		client = v.http
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrHomeserverUnreachable, redactURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusOK:
		var info struct {
			Sub id.UserID `json:"sub"`
		}
		if err := json.Unmarshal(body, &info); err != nil {
			return "", fmt.Errorf("%w: unreadable answer", ErrTokenRefused)
		}
		return info.Sub, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", ErrTokenRefused
	case local && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed):
		return "", errNoEndpoint
	default:
		return "", fmt.Errorf("%w: HTTP %d", ErrHomeserverUnreachable, resp.StatusCode)
	}
}

func (v *Verifier) askFederation(ctx context.Context, serverName, token string) (id.UserID, error) {
	t, err := v.resolveServer(ctx, serverName)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrHomeserverUnreachable, err)
	}
	u := url.URL{Scheme: "https", Host: t.Host, Path: userinfoPath, RawQuery: url.Values{"access_token": {token}}.Encode()}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, targetKey{}, t), http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	return v.userinfo(req, false)
}

// redactURLError drops the URL (which carries the token) from a client error.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
