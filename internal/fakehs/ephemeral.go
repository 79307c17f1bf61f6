package fakehs

import "net/http"

// Typing notifications, read receipts and /sync are accepted and counted (Counts:
// "typing", "receipt", "sync"); nothing is kept or pushed back.

// counted answers {} and counts the request under kind.
func (s *Server) counted(kind string) func(w http.ResponseWriter, r *http.Request, user string) {
	return func(w http.ResponseWriter, r *http.Request, user string) {
		s.mu.Lock()
		s.counts[kind]++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

// countedSync is sync, counted.
func (s *Server) countedSync(w http.ResponseWriter, r *http.Request, user string) {
	s.mu.Lock()
	s.counts["sync"]++
	s.mu.Unlock()
	s.sync(w, r, user)
}
