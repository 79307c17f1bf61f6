package netns

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

// The tests of this package run isolated, as the packages using it do.
func TestMain(m *testing.M) { os.Exit(Main(m, nil)) }

func TestOnlyLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs isolated only without -short")
	}
	ok, err := Isolated()
	if err != nil || !ok {
		t.Fatalf("Isolated() = %v, %v inside the namespace", ok, err)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifaces) != 1 || ifaces[0].Name != "lo" {
		t.Fatalf("interfaces %v; want lo only", ifaces)
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on %s: %v", addr, err)
		}
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatalf("dial %s: %v", l.Addr(), err)
		}
		c.Close()
		l.Close()
	}
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil {
		c.Close()
		t.Fatal("a route off loopback exists inside the namespace")
	}
}

const helperEnv = "NETNS_TEST_HELPER"

// TestRun: a program (here this test binary, running one test) runs again in a
// namespace of its own, with the environment given, and its output comes back.
func TestRun(t *testing.T) {
	if testing.Short() || os.Getenv(helperEnv) != "" {
		t.Skip("runs isolated only without -short; not in the helper")
	}
	var out bytes.Buffer
	code, err := Run([]string{"-test.run=^TestHelperChild$", "-test.v"}, []string{helperEnv + "=1"}, &out)
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; output:\n%s", code, err, out.String())
	}
	if !strings.Contains(out.String(), "helper: isolated true") {
		t.Fatalf("the child's output lacks its report:\n%s", out.String())
	}
}

// TestHelperChild is what TestRun runs in the new namespace.
func TestHelperChild(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestRun")
	}
	ok, err := Isolated()
	fmt.Printf("helper: isolated %v %v child %v\n", ok, err, Child())
}
