//go:build unix && !linux

package testbed

import "syscall"

// childProcAttr puts Dendrite in its own process group so Stop can signal all of it.
// Outside Linux there is no parent-death signal: a crashed test can leave servers behind.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
