package passwords

import (
	"context"
	"syscall"
	"testing"
)

// TestWorkersRunNiced checks the isolation mechanism itself: the job runs on a thread whose
// nice value is the configured one, and the caller's thread is untouched.
func TestWorkersRunNiced(t *testing.T) {
	h := New(OWASP, 1, 7)
	defer h.Close()
	var workerPrio int
	var err error
	done := make(chan struct{})
	h.jobs <- func() {
		// The raw syscall answers 20 - nice.
		workerPrio, err = syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		close(done)
	}
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if nice := 20 - workerPrio; nice != 7 {
		t.Fatalf("worker nice = %d, want 7", nice)
	}
	mine, _ := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if 20-mine == 7 {
		t.Fatal("the caller's thread was niced too")
	}
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
}
