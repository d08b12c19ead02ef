package passwords

import (
	"os"
	"path/filepath"
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

// selfExe names this process's own executable file, whatever has since happened to its path.
func selfExe() string {
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	path, _ := os.Executable() // "" fails at start, and the server hashes in-process
	return path
}

// nameProcess gives the worker its program's name back: started through /proc/self/exe, the
// kernel named it "exe", which is what ps -e, top and pgrep would show.
func nameProcess() {
	_ = os.WriteFile("/proc/self/comm", []byte(filepath.Base(os.Args[0])), 0)
}
