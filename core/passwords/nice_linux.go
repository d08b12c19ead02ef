package passwords

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// lowerPriority lowers the calling thread's scheduling priority; lowering needs no privilege.
// Failure only loses the isolation, never correctness.
func lowerPriority(iso Isolation) {
	if iso.Idle {
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
		if unix.SchedSetAttr(0, &attr, 0) == nil {
			return
		}
	}
	if iso.Nice > 0 {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), iso.Nice)
	}
}
