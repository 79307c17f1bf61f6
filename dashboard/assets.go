package dashboard

import (
	"embed"
	"net/http"
)

// assets are the page: hand-written HTML, CSS and JavaScript, nothing to build.
//
//go:embed assets/index.html assets/app.css assets/app.js
var assets embed.FS

var assetTypes = map[string]string{
	"index.html": "text/html; charset=utf-8",
	"app.css":    "text/css; charset=utf-8",
	"app.js":     "text/javascript; charset=utf-8",
}

// pagePolicy lets the page load only its own script and style and talk only to the
// service. It names no frame-ancestors: Element, which frames the page, may be served
// from any origin.
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'"

func (s *Server) serveAsset(name string) http.HandlerFunc {
	data, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic("dashboard: missing asset " + name)
	}
	contentType := assetTypes[name]
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		if name == "index.html" {
			h.Set("Content-Security-Policy", pagePolicy)
		}
		_, _ = w.Write(data)
	}
}
