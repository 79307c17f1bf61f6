package testbed

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Account is a registered, logged-in user.
type Account struct {
	UserID, Password, AccessToken, DeviceID string
}

// Register creates a user with the Synapse-compatible shared-secret admin API
// (POST /_synapse/admin/v1/register) and returns it logged in: Dendrite answers that
// call with an access token and device, so no separate /login is needed.
func (s *Server) Register(ctx context.Context, localpart, password string, admin bool) (*Account, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	if err := doJSON(ctx, client, http.MethodGet, s.URL+"/_synapse/admin/v1/register", nil, &nonce); err != nil {
		return nil, fmt.Errorf("testbed: register %s on %s: get nonce: %w", localpart, s.Name, err)
	}
	kind := "notadmin"
	if admin {
		kind = "admin"
	}
	mac := hmac.New(sha1.New, []byte(s.SharedSecret))
	mac.Write([]byte(nonce.Nonce + "\x00" + localpart + "\x00" + password + "\x00" + kind))
	req := map[string]any{
		"nonce":    nonce.Nonce,
		"username": localpart,
		"password": password,
		"admin":    admin,
		"mac":      hex.EncodeToString(mac.Sum(nil)),
	}
	var resp struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
		DeviceID    string `json:"device_id"`
	}
	if err := doJSON(ctx, client, http.MethodPost, s.URL+"/_synapse/admin/v1/register", req, &resp); err != nil {
		return nil, fmt.Errorf("testbed: register %s on %s: %w", localpart, s.Name, err)
	}
	if resp.AccessToken == "" {
		return nil, fmt.Errorf("testbed: register %s on %s: no access token in the response", localpart, s.Name)
	}
	return &Account{UserID: resp.UserID, Password: password, AccessToken: resp.AccessToken, DeviceID: resp.DeviceID}, nil
}

// doJSON sends in (if not nil) as JSON and decodes a 200 response into out.
func doJSON(ctx context.Context, client *http.Client, method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// SetAppserviceUserPassword gives an appservice user (registered here with asToken if it
// does not exist yet) a password, as a homeserver admin would with Dendrite's admin
// API: Dendrite asks for the password before a user may publish cross-signing keys,
// appservice users included. It registers an admin account on first use.
func (s *Server) SetAppserviceUserPassword(ctx context.Context, asToken, userID, password string) error {
	client := &http.Client{Timeout: 10 * time.Second}
	localpart, _, _ := strings.Cut(strings.TrimPrefix(userID, "@"), ":")
	err := doJSONAuth(ctx, client, http.MethodPost, s.URL+"/_matrix/client/v3/register", asToken,
		map[string]any{"type": "m.login.application_service", "username": localpart, "inhibit_login": true}, &struct{}{})
	if err != nil && !strings.Contains(err.Error(), "M_USER_IN_USE") {
		return fmt.Errorf("testbed: register %s: %w", userID, err)
	}
	admin, err := s.adminAccount(ctx)
	if err != nil {
		return err
	}
	err = doJSONAuth(ctx, client, http.MethodPost, s.URL+"/_dendrite/admin/resetPassword/"+url.PathEscape(userID), admin.AccessToken,
		map[string]any{"password": password, "logout_devices": false}, &struct{}{})
	if err != nil {
		return fmt.Errorf("testbed: set the password of %s: %w", userID, err)
	}
	return nil
}

// adminAccount is the server's admin user, registered on first use.
func (s *Server) adminAccount(ctx context.Context) (*Account, error) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if s.admin != nil {
		return s.admin, nil
	}
	secret, err := randomHex(12)
	if err != nil {
		return nil, err
	}
	admin, err := s.Register(ctx, "testbedadmin"+secret[:6], secret, true)
	if err != nil {
		return nil, err
	}
	s.admin = admin
	return admin, nil
}

// doJSONAuth is doJSON with an access token.
func doJSONAuth(ctx context.Context, client *http.Client, method, url, token string, in, out any) error {
	return doJSON(ctx, &http.Client{Timeout: client.Timeout, Transport: bearer{token}}, method, url, in, out)
}

// bearer adds an access token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}
