package passwords

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// lowerPriority lowers the calling thread's scheduling priority; lowering needs no privilege.
// Failure only loses the isolation, never correctness.
func lowerPriority(iso Isolation) { lowerThread(0, iso) }

// lowerThread lowers thread tid (0: the caller) of this process.
func lowerThread(tid int, iso Isolation) {
	if iso.Idle {
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
		if unix.SchedSetAttr(tid, &attr, 0) == nil {
			return
		}
	}
	if iso.Nice > 0 {
		if tid == 0 {
			tid = syscall.Gettid()
		}
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, iso.Nice)
	}
}

// childAttr kills a hash worker when its parent dies, whatever the parent's death.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
