package testbed

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestStallProxy: while stalled, nothing passes on a connection opened before the
// stall nor on one opened during it, and neither is closed; after Resume, what was
// held arrives, in order.
func TestStallProxy(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p, err := listenStallProxy()
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	p.setTarget(echo.Addr().String())
	p.serve()
	addr := "127.0.0.1:" + strconv.Itoa(p.port())

	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, bufio.NewReader(c)
	}
	send := func(c net.Conn, line string) {
		if _, err := c.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(c net.Conn, r *bufio.Reader, want string, within time.Duration) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(within))
		got, err := r.ReadString('\n')
		if err != nil || got != want+"\n" {
			t.Fatalf("read %q (%v), want %q", got, err, want)
		}
	}
	silent := func(c net.Conn, r *bufio.Reader) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if got, err := r.ReadString('\n'); got != "" || !isTimeout(err) {
			t.Fatalf("read %q (%v) while stalled, want nothing and a timeout", got, err)
		}
	}

	before, beforeR := dial()
	send(before, "one")
	expect(before, beforeR, "one", 5*time.Second)

	p.stall()
	if !p.stalled() {
		t.Fatal("not stalled after stall")
	}
	send(before, "two")
	during, duringR := dial()
	send(during, "three")
	silent(before, beforeR)
	silent(during, duringR)
	if p.held.Load() < 2 {
		t.Fatalf("%d copy loops holding traffic, want both connections' writes held", p.held.Load())
	}

	p.resume()
	expect(before, beforeR, "two", 5*time.Second)
	expect(during, duringR, "three", 5*time.Second)
	send(before, "four")
	expect(before, beforeR, "four", 5*time.Second)
	if p.held.Load() != 0 || p.stalled() {
		t.Fatalf("after resume: %d copy loops holding traffic, stalled %v", p.held.Load(), p.stalled())
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
