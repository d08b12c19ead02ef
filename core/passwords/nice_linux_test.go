package passwords

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWorkersRunNiced checks the isolation mechanism itself: the job runs on a thread whose
// nice value is the configured one, and the caller's thread is untouched.
func TestWorkersRunNiced(t *testing.T) {
	h := New(OWASP, 1, Isolation{Nice: 7})
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

// TestSpareProcsOnlyWhileHashing: a niced hash lends the scheduler one P while it runs, and
// GOMAXPROCS returns to its value once hashing has been idle for spareLinger.
func TestSpareProcsOnlyWhileHashing(t *testing.T) {
	defer func(d time.Duration) { spareLinger = d }(spareLinger)
	spareLinger = 50 * time.Millisecond
	h := New(OWASP, 1, Isolation{Nice: 5})
	defer h.Close()
	// Earlier tests and New's timing equaliser hashed: wait for lent Ps to be given back.
	waitLent(t)
	base := runtime.GOMAXPROCS(0)
	var during int
	if err := h.run(context.Background(), func() { during = runtime.GOMAXPROCS(0) }); err != nil {
		t.Fatal(err)
	}
	if during != base+1 {
		t.Fatalf("GOMAXPROCS during a niced hash = %d, want %d", during, base+1)
	}
	waitLent(t)
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS after the hash = %d, want %d back", got, base)
	}
	// Without nice, no P is lent.
	plain := New(OWASP, 1, Isolation{})
	defer plain.Close()
	if err := plain.run(context.Background(), func() { during = runtime.GOMAXPROCS(0) }); err != nil {
		t.Fatal(err)
	}
	if during != base {
		t.Fatalf("GOMAXPROCS during a plain hash = %d, want %d", during, base)
	}
}

// waitLent waits until no P is lent (spareLinger may have been longer when the timer was set).
func waitLent(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		spare.mu.Lock()
		lent := spare.lent
		spare.mu.Unlock()
		if lent == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Ps still lent", lent)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWorkersRunSchedIdle: with Idle the job's thread is under SCHED_IDLE, the caller's is not.
func TestWorkersRunSchedIdle(t *testing.T) {
	h := New(OWASP, 1, Isolation{Nice: 10, Idle: true})
	defer h.Close()
	var policy uint32
	var err error
	if err := h.run(context.Background(), func() {
		var a *unix.SchedAttr
		if a, err = unix.SchedGetAttr(0, 0); err == nil {
			policy = a.Policy
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if policy != unix.SCHED_IDLE {
		t.Fatalf("worker policy = %d, want SCHED_IDLE (%d)", policy, unix.SCHED_IDLE)
	}
	if mine, err := unix.SchedGetAttr(0, 0); err != nil || mine.Policy == unix.SCHED_IDLE {
		t.Fatalf("the caller's thread: %+v %v", mine, err)
	}
}
