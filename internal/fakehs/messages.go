package fakehs

import "net/http"

// messages pages a room's timeline. The fake keeps no timelines (sends are counted, not
// stored), so every page is empty and has no "end", as a real server answers when
// nothing follows "from"; what is measured is the request's cost, not its content.
// Rooms the fake knows of check membership, as /send does.
func (s *Server) messages(w http.ResponseWriter, r *http.Request, user string) {
	room := r.PathValue("room")
	q := r.URL.Query()
	if dir := q.Get("dir"); dir != "f" && dir != "b" {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAM", "Bad or missing dir query parameter")
		return
	}
	s.mu.Lock()
	members := s.members[room]
	refused := members != nil && members[user] != "join"
	if !refused {
		s.counts["messages"]++
	}
	s.mu.Unlock()
	if refused {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", user+" is not in the room")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"start": q.Get("from"), "chunk": []any{}})
}
