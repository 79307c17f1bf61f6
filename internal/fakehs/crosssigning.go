package fakehs

import (
	"encoding/json"
	"net/http"
)

// crossSigning is a user's published cross-signing keys, as uploaded (with the
// signatures added later), keyed "master", "self_signing" and "user_signing".
type crossSigning map[string]map[string]any

// uploadCrossSigning keeps a user's cross-signing keys. Like Synapse for appservice
// users (and MSC3967 for a first upload), it asks for no user-interactive auth.
func (s *Server) uploadCrossSigning(w http.ResponseWriter, r *http.Request, user string) {
	var req map[string]map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", err.Error())
		return
	}
	keys := crossSigning{}
	for _, usage := range []string{"master", "self_signing", "user_signing"} {
		if k, ok := req[usage+"_key"]; ok {
			keys[usage] = k
		}
	}
	s.mu.Lock()
	s.crossSigning[user] = keys
	s.counts["cross-signing"]++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// uploadSignatures adds signatures to a user's device keys or master key.
func (s *Server) uploadSignatures(w http.ResponseWriter, r *http.Request, _ string) {
	var req map[string]map[string]struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for user, signed := range req {
		for keyID, sigs := range signed {
			if raw, ok := s.deviceKeys[user][keyID]; ok {
				var device map[string]any
				if json.Unmarshal(raw, &device) == nil {
					addSignatures(device, sigs.Signatures)
					s.deviceKeys[user][keyID], _ = json.Marshal(device)
				}
			} else if master := s.crossSigning[user]["master"]; master != nil && hasKey(master, keyID) {
				addSignatures(master, sigs.Signatures)
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"failures": map[string]any{}})
}

// hasKey tells whether a cross-signing key object carries the public key.
func hasKey(key map[string]any, public string) bool {
	keys, _ := key["keys"].(map[string]any)
	for _, k := range keys {
		if k == public {
			return true
		}
	}
	return false
}

func addSignatures(target map[string]any, sigs map[string]map[string]string) {
	all, _ := target["signatures"].(map[string]any)
	if all == nil {
		all = map[string]any{}
		target["signatures"] = all
	}
	for signer, byKey := range sigs {
		mine, _ := all[signer].(map[string]any)
		if mine == nil {
			mine = map[string]any{}
			all[signer] = mine
		}
		for keyID, sig := range byKey {
			mine[keyID] = sig
		}
	}
}

// crossSigningKeysFor adds the users' published cross-signing keys to a key query
// answer; user-signing keys are only shown to their owner.
func (s *Server) crossSigningKeysFor(users map[string][]string, asker string, out map[string]any) {
	for _, usage := range []string{"master", "self_signing", "user_signing"} {
		byUser := map[string]any{}
		for user := range users {
			if k := s.crossSigning[user][usage]; k != nil && (usage != "user_signing" || user == asker) {
				byUser[user] = k
			}
		}
		out[usage+"_keys"] = byUser
	}
}
