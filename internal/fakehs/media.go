package fakehs

import (
	"io"
	"net/http"
	"strconv"
)

// maxUpload bounds what the fake keeps of one upload.
const maxUpload = 64 << 20

// media is one stored file.
type media struct {
	data        []byte
	contentType string
}

// PutMedia stores a file under mxc://server/id, as if a remote server's media had
// been fetched over federation, so that an appservice can download it.
func (s *Server) PutMedia(server, id string, data []byte, contentType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[server+"/"+id] = media{data: data, contentType: contentType}
}

// upload keeps the body and answers its mxc URI on this server.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, _ string) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxUpload+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "M_UNKNOWN", err.Error())
		return
	} else if len(data) > maxUpload {
		writeError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "Upload too large")
		return
	}
	s.mu.Lock()
	s.nextID++
	id := "media" + strconv.Itoa(s.nextID)
	s.media[s.opts.Domain+"/"+id] = media{data: data, contentType: r.Header.Get("Content-Type")}
	s.counts["upload"]++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"content_uri": "mxc://" + s.opts.Domain + "/" + id})
}

// download serves a stored file (authenticated media, spec v1.11).
func (s *Server) download(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	m, ok := s.media[r.PathValue("server")+"/"+r.PathValue("id")]
	if ok {
		s.counts["download"]++
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "Media not found")
		return
	}
	if m.contentType == "" {
		m.contentType = "application/octet-stream"
	}
	w.Header().Set("Content-Type", m.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	_, _ = w.Write(m.data)
}
