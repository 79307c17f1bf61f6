package testbed

import "syscall"

// childProcAttr puts Dendrite in its own process group, so Stop can signal everything it
// started, and asks the kernel to kill it if the test binary dies (panic, timeout,
// SIGKILL) before Close runs. Pdeathsig fires when the forking OS thread exits; Go only
// retires threads of goroutines that exit while locked to them, which this package
// never does.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
