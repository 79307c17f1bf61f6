package fakehs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// stateKey names one piece of a room's state.
type stateKey struct{ typ, key string }

// stateEvent is the current state event of a (type, state key) in a created room.
type stateEvent struct {
	stateKey
	sender  string
	id      string
	content json.RawMessage
}

func (e *stateEvent) event(room string) map[string]any {
	return map[string]any{
		"type": e.typ, "state_key": e.key, "sender": e.sender, "room_id": room,
		"event_id": e.id, "origin_server_ts": 1, "content": e.content,
	}
}

// setStateLocked records a state event; s.mu must be held. Membership also goes to
// the member list that /joined_members and /state answer from.
func (s *Server) setStateLocked(room, sender, typ, key string, content json.RawMessage) string {
	if s.roomState[room] == nil {
		s.roomState[room] = map[stateKey]*stateEvent{}
	}
	s.nextID++
	evt := &stateEvent{stateKey: stateKey{typ, key}, sender: sender, id: "$state" + strconv.Itoa(s.nextID), content: content}
	s.roomState[room][evt.stateKey] = evt
	if typ == "m.room.member" {
		var member struct {
			Membership string `json:"membership"`
		}
		if json.Unmarshal(content, &member) == nil && member.Membership != "" {
			s.setMemberLocked(room, key, member.Membership)
		}
	}
	return evt.id
}

func (s *Server) setMemberLocked(room, user, membership string) {
	if s.members[room] == nil {
		s.members[room] = map[string]string{}
	}
	s.members[room][user] = membership
}

func mustJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// createRoom creates a room with a fresh ID on this server: the creator joined, the
// invitees invited, and the creation content, power levels, name, topic and initial
// state recorded as state. Presets are not expanded (no join rules or history
// visibility): nothing here enforces them.
func (s *Server) createRoom(w http.ResponseWriter, r *http.Request, user string) {
	var req struct {
		Name            string          `json:"name"`
		Topic           string          `json:"topic"`
		Invite          []string        `json:"invite"`
		IsDirect        bool            `json:"is_direct"`
		CreationContent map[string]any  `json:"creation_content"`
		PowerLevels     json.RawMessage `json:"power_level_content_override"`
		InitialState    []struct {
			Type     string          `json:"type"`
			StateKey string          `json:"state_key"`
			Content  json.RawMessage `json:"content"`
		} `json:"initial_state"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", err.Error())
		return
	}
	creation := map[string]any{}
	for k, v := range req.CreationContent {
		creation[k] = v
	}
	creation["creator"], creation["room_version"] = user, "10"
	s.mu.Lock()
	s.nextID++
	room := fmt.Sprintf("!fake%d:%s", s.nextID, s.opts.Domain)
	s.setStateLocked(room, user, "m.room.create", "", mustJSON(creation))
	s.setStateLocked(room, user, "m.room.member", user, mustJSON(map[string]string{"membership": "join"}))
	power := req.PowerLevels
	if len(power) == 0 {
		power = mustJSON(map[string]any{"users": map[string]int{user: 100}})
	}
	s.setStateLocked(room, user, "m.room.power_levels", "", power)
	if req.Name != "" {
		s.setStateLocked(room, user, "m.room.name", "", mustJSON(map[string]string{"name": req.Name}))
	}
	if req.Topic != "" {
		s.setStateLocked(room, user, "m.room.topic", "", mustJSON(map[string]string{"topic": req.Topic}))
	}
	for _, st := range req.InitialState {
		s.setStateLocked(room, user, st.Type, st.StateKey, st.Content)
	}
	for _, invitee := range req.Invite {
		s.setStateLocked(room, user, "m.room.member", invitee, mustJSON(map[string]any{"membership": "invite", "is_direct": req.IsDirect}))
	}
	s.counts["createRoom"]++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"room_id": room})
}

// putState sets a state event. Only joined members may, as on a real server (power
// levels are not checked).
func (s *Server) putState(w http.ResponseWriter, r *http.Request, user string) {
	var content json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&content); err != nil {
		writeError(w, http.StatusBadRequest, "M_NOT_JSON", err.Error())
		return
	}
	room := r.PathValue("room")
	s.mu.Lock()
	if s.members[room][user] != "join" {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", user+" is not in the room")
		return
	}
	kind := "state"
	if r.PathValue("type") == "m.room.member" {
		// A member event set directly is a membership change (an invite that
		// carries is_direct, say), refused like one.
		var member struct {
			Membership string `json:"membership"`
		}
		_ = json.Unmarshal(content, &member)
		if member.Membership == "invite" && s.members[room][r.PathValue("key")] == "join" {
			s.mu.Unlock()
			writeError(w, http.StatusForbidden, "M_FORBIDDEN", r.PathValue("key")+" is already in the room")
			return
		}
		if member.Membership == "invite" {
			kind = "invite"
		}
	}
	eventID := s.setStateLocked(room, user, r.PathValue("type"), r.PathValue("key"), content)
	s.counts[kind]++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"event_id": eventID})
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request, _ string) {
	room := r.PathValue("room")
	s.mu.Lock()
	evt := s.roomState[room][stateKey{r.PathValue("type"), r.PathValue("key")}]
	s.mu.Unlock()
	if evt == nil {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "Event not found")
		return
	}
	if r.URL.Query().Get("format") == "event" {
		writeJSON(w, http.StatusOK, evt.event(room))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(evt.content)
}

// memberChange invites or kicks. Like a real server it refuses to invite someone
// already joined and to kick someone who is not in the room, and only members act.
func (s *Server) memberChange(kind string) func(w http.ResponseWriter, r *http.Request, user string) {
	return func(w http.ResponseWriter, r *http.Request, user string) {
		var req struct {
			UserID string `json:"user_id"`
			Reason string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.UserID == "" {
			writeError(w, http.StatusBadRequest, "M_BAD_JSON", "user_id required")
			return
		}
		room := r.PathValue("room")
		s.mu.Lock()
		defer s.mu.Unlock()
		current := s.members[room][req.UserID]
		switch {
		case s.members[room][user] != "join":
			writeError(w, http.StatusForbidden, "M_FORBIDDEN", user+" is not in the room")
			return
		case kind == "invite" && current == "join":
			writeError(w, http.StatusForbidden, "M_FORBIDDEN", req.UserID+" is already in the room")
			return
		case kind == "kick" && current != "join" && current != "invite":
			writeError(w, http.StatusForbidden, "M_FORBIDDEN", req.UserID+" is not in the room")
			return
		}
		membership := map[string]any{"membership": "invite"}
		if kind == "kick" {
			membership = map[string]any{"membership": "leave", "reason": req.Reason}
		}
		s.setStateLocked(room, user, "m.room.member", req.UserID, mustJSON(membership))
		s.counts[kind]++
		if kind == "invite" {
			s.invitesTo[req.UserID]++
		}
		writeJSON(w, http.StatusOK, struct{}{})
	}
}
