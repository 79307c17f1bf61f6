package browser

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"

	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

// ProjectDir is testclient/browser in the repository (the npm project).
func ProjectDir() (string, error) {
	root, err := jsclient.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testclient", "browser"), nil
}

// Ensure installs the npm packages of testclient/browser (matrix-js-sdk,
// esbuild, playwright-core; no browser download) if they are missing or older
// than package-lock.json. Safe to call from several processes at once.
func Ensure(ctx context.Context) error {
	dir, err := ProjectDir()
	if err != nil {
		return err
	}
	return jsclient.EnsureDir(ctx, dir)
}

// bundle builds page/main.js with everything it imports into out/bundle.js, an
// ES module (matrix-js-sdk's crypto finds its WebAssembly relative to
// import.meta.url). It takes a fraction of a second, so each browser builds its
// own.
func bundle(ctx context.Context, project, out string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(project, "node_modules", ".bin", "esbuild"),
		filepath.Join("page", "main.js"), "--bundle", "--format=esm", "--platform=browser",
		"--outfile="+filepath.Join(out, "bundle.js"), "--log-level=warning")
	cmd.Dir = project
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("browser: esbuild: %w\n%s", err, output)
	}
	return nil
}

// wasmPath is where the Rust crypto's WebAssembly sits in node_modules, and
// (relative to the bundle) where the page fetches it.
const wasmPath = "node_modules/@matrix-org/matrix-sdk-crypto-wasm/pkg/matrix_sdk_crypto_wasm_bg.wasm"

// pageHandler serves the page, the bundle in out, and the crypto's
// WebAssembly (as application/wasm, which instantiateStreaming requires).
func pageHandler(project, out string) http.Handler {
	file := func(path, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Cache-Control", "no-store")
			http.ServeFile(w, r, path)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", file(filepath.Join(project, "page", "index.html"), "text/html; charset=utf-8"))
	mux.Handle("GET /bundle.js", file(filepath.Join(out, "bundle.js"), "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("GET /pkg/matrix_sdk_crypto_wasm_bg.wasm", file(filepath.Join(project, filepath.FromSlash(wasmPath)), "application/wasm"))
	return mux
}
