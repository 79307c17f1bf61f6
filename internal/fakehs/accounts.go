package fakehs

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"versions": Versions, "unstable_features": map[string]bool{}})
}

func (s *Server) register(w http.ResponseWriter, r *http.Request, _ string) {
	var req struct {
		Username string `json:"username"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Username == "" {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "username required")
		return
	}
	user := "@" + req.Username + ":" + s.opts.Domain
	s.mu.Lock()
	taken := s.registered[user]
	s.registered[user] = true
	if !taken {
		s.counts["register"]++
	}
	s.mu.Unlock()
	if taken {
		writeError(w, http.StatusBadRequest, "M_USER_IN_USE", "User ID already taken")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"user_id": user})
}

// device is a device logged in with the appservice token (MSC-less appservice login).
type device struct {
	user, id string
	otks     int
}

// login creates a device for an appservice user, as m.login.application_service does.
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ string) {
	var req struct {
		Type       string `json:"type"`
		Identifier struct {
			User string `json:"user"`
		} `json:"identifier"`
		DeviceID string `json:"device_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Type != "m.login.application_service" ||
		r.Header.Get("Authorization") != "Bearer "+s.opts.ASToken {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "Only appservice login with the appservice token")
		return
	}
	user := req.Identifier.User
	if !strings.HasPrefix(user, "@") {
		user = "@" + user + ":" + s.opts.Domain
	}
	s.mu.Lock()
	s.nextID++
	token := "fakedevtoken" + strconv.Itoa(s.nextID)
	if req.DeviceID == "" {
		req.DeviceID = "FAKEDEV" + strconv.Itoa(s.nextID)
	}
	s.devices[token] = device{user: user, id: req.DeviceID}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"user_id": user, "access_token": token, "device_id": req.DeviceID})
}

// uploadKeys keeps a device's identity keys (for queryKeys) and counts one-time keys.
func (s *Server) uploadKeys(w http.ResponseWriter, r *http.Request, user string) {
	var req struct {
		DeviceKeys  json.RawMessage            `json:"device_keys"`
		OneTimeKeys map[string]json.RawMessage `json:"one_time_keys"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", err.Error())
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	dev, ok := s.devices[token]
	if ok {
		dev.otks += len(req.OneTimeKeys)
		s.devices[token] = dev
		if len(req.DeviceKeys) > 0 {
			if s.deviceKeys[user] == nil {
				s.deviceKeys[user] = map[string]json.RawMessage{}
			}
			s.deviceKeys[user][dev.id] = req.DeviceKeys
		}
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "M_UNKNOWN", "Keys can only be uploaded by a device")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"one_time_key_counts": map[string]int{"signed_curve25519": dev.otks}})
}

func (s *Server) queryKeys(w http.ResponseWriter, r *http.Request, asker string) {
	var req struct {
		DeviceKeys map[string][]string `json:"device_keys"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", err.Error())
		return
	}
	out := map[string]map[string]json.RawMessage{}
	s.mu.Lock()
	for user, ids := range req.DeviceKeys {
		out[user] = map[string]json.RawMessage{}
		for devID, keys := range s.deviceKeys[user] {
			if len(ids) == 0 || slices.Contains(ids, devID) {
				out[user][devID] = keys
			}
		}
	}
	answer := map[string]any{"device_keys": out, "failures": map[string]any{}}
	s.crossSigningKeysFor(req.DeviceKeys, asker, answer)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, answer)
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, _ string) {
	field := r.PathValue("field")
	s.mu.Lock()
	value, ok := s.profiles[r.PathValue("user")][field]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "Profile field not set")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{field: value})
}

func (s *Server) putProfile(w http.ResponseWriter, r *http.Request, user string) {
	field := r.PathValue("field")
	if r.PathValue("user") != user {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "Cannot set another user's profile")
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", err.Error())
		return
	}
	value, _ := body[field].(string)
	s.mu.Lock()
	if s.profiles[user] == nil {
		s.profiles[user] = map[string]string{}
	}
	s.profiles[user][field] = value
	s.counts["profile"]++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}
