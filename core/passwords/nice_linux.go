package passwords

import "syscall"

// lowerPriority sets the calling thread's nice value; raising it needs no privilege. Failure
// only loses the isolation, never correctness.
func lowerPriority(nice int) {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice)
}
