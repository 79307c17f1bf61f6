// Package netns runs a test binary (Main), or any program (Run, Child), in a
// private network namespace where only the loopback interface is up, so that
// nothing it starts (homeservers, browsers, WebRTC stacks) can reach, or gather
// candidates on, any other interface. Chromium pairs sockets of other
// interfaces with loopback candidates whatever its flags say; only isolation
// keeps media on lo.
package netns

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"unsafe"
)

// childEnv marks the re-executed test binary.
const childEnv = "NETNS_ISOLATED_CHILD"

// Isolated reports whether every network interface of this process is a
// loopback interface that is up.
func Isolated() (bool, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return false, err
	}
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback == 0 || i.Flags&net.FlagUp == 0 {
			return false, nil
		}
	}
	return len(ifaces) > 0, nil
}

// Main runs the tests in an isolated network namespace. In a process that is
// not isolated it first calls prepare (for what needs the network: installing
// tools and packages), then runs the test binary again, with the same
// arguments, in a new network namespace, and returns its exit code; the
// re-executed binary brings lo up and runs m. Creating a namespace needs
// root (CAP_SYS_ADMIN); without it Main reports why and fails. With -short
// (where tests that need isolation skip) m runs as it is. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(netns.Main(m, prepare)) }
func Main(m interface{ Run() int }, prepare func() error) int {
	if Child() {
		if err := EnterChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}
	flag.Parse()
	if ok, err := Isolated(); (err == nil && ok) || testing.Short() {
		return m.Run()
	}
	if prepare != nil {
		if err := prepare(); err != nil {
			fmt.Fprintln(os.Stderr, "netns: preparing before isolation:", err)
			return 1
		}
	}
	code, err := Run(os.Args[1:], nil, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netns: these tests run in a private network namespace (loopback only) "+
			"and could not create one; run them as root (or with CAP_SYS_ADMIN):", err)
		return 1
	}
	return code
}

// Child reports whether this process is the binary Main or Run started again in
// a namespace of its own; it calls EnterChild before anything else.
func Child() bool { return os.Getenv(childEnv) != "" }

// EnterChild brings lo up in the new namespace and checks that nothing else is
// there.
func EnterChild() error {
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("netns: bring lo up: %w", err)
	}
	if ok, err := Isolated(); !ok || err != nil {
		return fmt.Errorf("netns: the new network namespace is not loopback-only (%v)", err)
	}
	return nil
}

// Run runs this binary again with args, and env added to its environment, in a
// new network namespace, with its standard output to stdout and its standard
// error to this process's; it forwards signals and returns the exit code. The
// program sees Child() and calls EnterChild. Creating the namespace needs root
// (CAP_SYS_ADMIN).
func Run(args, env []string, stdout io.Writer) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, os.Stderr
	cmd.Env = append(append(os.Environ(), env...), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if code := exit.ExitCode(); code >= 0 {
			return code, nil
		}
		return 1, nil // killed by a signal; the child's output says why
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// loopbackUp sets the IFF_UP flag on lo, as `ip link set lo up` does.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte // the rest of struct ifreq's union
	}
	copy(req.name[:], "lo")
	if err := ioctl(fd, syscall.SIOCGIFFLAGS, unsafe.Pointer(&req)); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	req.flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	if err := ioctl(fd, syscall.SIOCSIFFLAGS, unsafe.Pointer(&req)); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
