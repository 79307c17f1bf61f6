package fakehs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SetMembership records a member of a room, as federation would have told a real
// server (the fake sees no federation): /state and /joined_members report it.
func (s *Server) SetMembership(room, user, membership string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setMemberLocked(room, user, membership)
}

func (s *Server) join(w http.ResponseWriter, r *http.Request, user string) {
	room := r.PathValue("room")
	if !strings.HasPrefix(room, "!") {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "Aliases are not supported by the fake")
		return
	}
	s.SetMembership(room, user, "join")
	writeJSON(w, http.StatusOK, map[string]string{"room_id": room})
}

func (s *Server) leave(w http.ResponseWriter, r *http.Request, user string) {
	s.SetMembership(r.PathValue("room"), user, "leave")
	writeJSON(w, http.StatusOK, struct{}{})
}

// state is the room's state: for a room created here what was set, for a customer
// room a minimal unencrypted one (its creation), and in both the members.
func (s *Server) state(w http.ResponseWriter, r *http.Request, _ string) {
	room := r.PathValue("room")
	s.mu.Lock()
	var evts []map[string]any
	if created := s.roomState[room]; created != nil {
		for _, st := range created {
			if st.typ != "m.room.member" { // members come from the member list below
				evts = append(evts, st.event(room))
			}
		}
	} else {
		evts = append(evts, map[string]any{
			"type": "m.room.create", "state_key": "", "sender": "@creator:" + s.opts.Domain, "room_id": room,
			"event_id": "$create-" + room, "origin_server_ts": 1, "content": map[string]any{"room_version": "10"},
		})
	}
	for user, membership := range s.members[room] {
		evts = append(evts, map[string]any{
			"type": "m.room.member", "state_key": user, "sender": user, "room_id": room,
			"event_id": "$member-" + user + room, "origin_server_ts": 2, "content": map[string]any{"membership": membership},
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, evts)
}

func (s *Server) joinedMembers(w http.ResponseWriter, r *http.Request, _ string) {
	joined := map[string]any{}
	s.mu.Lock()
	for user, membership := range s.members[r.PathValue("room")] {
		if membership == "join" {
			joined[user] = map[string]any{}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"joined": joined})
}

// send counts an event; a repeated (user, transaction ID) returns the first event ID
// and counts nothing, as a real server does, so resends are visible as such.
func (s *Server) send(w http.ResponseWriter, r *http.Request, user string) {
	var content json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&content); err != nil {
		writeError(w, http.StatusBadRequest, "M_NOT_JSON", err.Error())
		return
	}
	room, key := r.PathValue("room"), user+"|"+r.PathValue("txn")
	s.mu.Lock()
	if members := s.members[room]; members != nil && members[user] != "join" {
		// Rooms the fake knows of check membership, as a real server does: a send
		// before the join (or into a room the sender left) is a bug worth seeing.
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", user+" is not in the room")
		return
	}
	eventID, dup := s.sent[key]
	if !dup {
		s.nextID++
		eventID = "$fake" + strconv.Itoa(s.nextID)
		s.sent[key] = eventID
		s.sendsPerRoom[room]++
		s.sends++
		s.counts["send"]++
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"event_id": eventID})
}

// sync long-polls: nothing ever happens on this server, so it answers empty after the
// timeout. The first sync (no since) answers at once, as real servers do.
func (s *Server) sync(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	if q.Get("since") != "" {
		timeout, _ := strconv.Atoi(q.Get("timeout"))
		timer := time.NewTimer(time.Duration(timeout) * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	resp := map[string]any{"next_batch": fmt.Sprintf("s%d", time.Now().UnixNano())}
	s.mu.Lock()
	if dev, ok := s.devices[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; ok {
		// Without the count a device's crypto machine would top its keys up again.
		resp["device_one_time_keys_count"] = map[string]int{"signed_curve25519": dev.otks}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) ping(w http.ResponseWriter, r *http.Request, _ string) {
	var req struct {
		TxnID string `json:"transaction_id"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	start := time.Now()
	if s.opts.AppserviceURL != "" && s.opts.HSToken != "" {
		body, _ := json.Marshal(map[string]string{"transaction_id": req.TxnID})
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		preq, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.AppserviceURL+"/_matrix/app/v1/ping", bytes.NewReader(body))
		preq.Header.Set("Authorization", "Bearer "+s.opts.HSToken)
		preq.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(preq)
		if err != nil {
			writeError(w, http.StatusBadGateway, "M_CONNECTION_FAILED", err.Error())
			return
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			writeError(w, http.StatusBadGateway, "M_BAD_STATUS", resp.Status)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]int64{"duration_ms": time.Since(start).Milliseconds()})
}
