package bridge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func serve(t *testing.T, max int, idle time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), idle)
	go func() { _ = srv.Serve(limitListener(ln, max)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// closedWithin tells whether the server closes the connection within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return err == nil // EOF from the server; a deadline error means still open
}

// An idle keep-alive connection is closed after the idle timeout.
func TestListenerClosesIdleConnections(t *testing.T) {
	addr := serve(t, 0, 200*time.Millisecond)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("response %v, %v", resp, err)
	}
	_ = resp.Body.Close()
	if !closedWithin(conn, 2*time.Second) {
		t.Fatal("an idle keep-alive connection stayed open past the idle timeout")
	}
}

// The limits are set: a request that never finishes its headers is cut off, and
// nothing is left without a bound.
func TestListenerHasTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), 0)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("a limit is missing: %+v", srv)
	}
}

// Connections over the cap wait: with a cap of 2 and two idle connections open, a
// third is served only once one of them closes.
func TestListenerCapsConnections(t *testing.T) {
	addr := serve(t, 2, time.Minute)
	var held []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		held = append(held, conn)
	}
	time.Sleep(100 * time.Millisecond) // both accepted
	client := &http.Client{Timeout: 500 * time.Millisecond}
	if _, err := client.Get("http://" + addr + "/"); err == nil {
		t.Fatal("a third connection was served while the cap was reached")
	}
	_ = held[0].Close()
	client.Timeout = 5 * time.Second
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("no room after a connection closed: %v", err)
	}
	_ = resp.Body.Close()
}
