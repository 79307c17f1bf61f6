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
