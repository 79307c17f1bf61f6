package testbed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestChildrenDieWithPanickingTest runs this test binary again as a helper that starts a
// bed and panics without calling Close. Both Dendrite processes must die with it
// (Pdeathsig), or a crashed test run would leave homeservers holding ports and files.
func TestChildrenDieWithPanickingTest(t *testing.T) {
	if dir := os.Getenv("TESTBED_PANIC_HELPER_DIR"); dir != "" {
		b, err := Start(context.Background(), Options{Dir: dir})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(3)
		}
		fmt.Printf("PIDS %d %d\n", b.Customer.pid(), b.Business.pid())
		panic("helper panics on purpose, leaving its test bed running")
	}

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildrenDieWithPanickingTest$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTBED_PANIC_HELPER_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("helper did not fail:\n%s", out)
	}
	var pids []int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "PIDS" {
			for _, s := range f[1:] {
				pid, _ := strconv.Atoi(s)
				pids = append(pids, pid)
			}
		}
	}
	if len(pids) != 2 {
		t.Fatalf("helper did not report its servers:\n%s", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("dendrite pid %d outlived the panicking test", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// alive reports whether pid exists and is not a zombie waiting to be reaped.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) {
		return data[i+2] != 'Z'
	}
	return true
}
