package passwords

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
	h.jobs <- &job{done: make(chan struct{}), probe: func() {
		// The raw syscall answers 20 - nice.
		workerPrio, err = syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		close(done)
	}}
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
	if err := h.run(context.Background(), &job{probe: func() { during = runtime.GOMAXPROCS(0) }}); err != nil {
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
	if err := plain.run(context.Background(), &job{probe: func() { during = runtime.GOMAXPROCS(0) }}); err != nil {
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
	if err := h.run(context.Background(), &job{probe: func() {
		var a *unix.SchedAttr
		if a, err = unix.SchedGetAttr(0, 0); err == nil {
			policy = a.Policy
		}
	}}); err != nil {
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

// TestProcessWorkers: with Process, hashes run in a child process, named as its program in ps,
// whose threads are all under SCHED_IDLE and without the service's settings; results match the
// in-process ones, and a killed child is replaced, the next request succeeding in the new one.
func TestProcessWorkers(t *testing.T) {
	t.Setenv("CASHLESS_AUTH_JWT_SECRET", "must-not-reach-the-worker")
	h := New(OWASP, 1, Isolation{Idle: true, Process: testWorker()})
	defer h.Close()
	ctx := context.Background()
	enc, err := h.Hash(ctx, "pw-123456")
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := New(OWASP, 1, Isolation{}).Verify(ctx, enc, "pw-123456"); err != nil || !ok || rehash {
		t.Fatalf("in-process verify of the child's hash: %v %v %v", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, enc, "wrong"); err != nil || ok {
		t.Fatalf("child accepted a wrong password: %v %v", ok, err)
	}
	if ok, _, err := h.Verify(ctx, enc, "pw-123456"); err != nil || !ok {
		t.Fatalf("child refused the right password: %v %v", ok, err)
	}

	// The child: one, every thread SCHED_IDLE.
	pids := childPIDs(t)
	if len(pids) != 1 {
		t.Fatalf("%d hash worker processes, want 1", len(pids))
	}
	// It does not inherit the service's settings (secrets among them).
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pids[0]) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(env), "\x00") {
		if strings.HasPrefix(kv, "CASHLESS_AUTH_") {
			t.Errorf("the worker inherited %s", kv)
		}
	}
	// Started through /proc/self/exe, it would show as "exe" without its renaming.
	if comm, err := os.ReadFile("/proc/" + strconv.Itoa(pids[0]) + "/comm"); err != nil || strings.TrimSpace(string(comm)) != filepath.Base(os.Args[0]) {
		t.Errorf("the worker's name: %q %v, want %q", comm, err, filepath.Base(os.Args[0]))
	}
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pids[0]) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if a.Policy != unix.SCHED_IDLE {
			t.Errorf("child thread %d has policy %d, want SCHED_IDLE", tid, a.Policy)
		}
	}

	// Kill it: the next request is retried in a new child and succeeds.
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if ok, _, err := h.Verify(ctx, enc, "pw-123456"); err != nil || !ok {
		t.Fatalf("after the child died: %v %v", ok, err)
	}
	if now := childPIDs(t); len(now) != 1 || now[0] == pids[0] {
		t.Fatalf("hash workers after the kill: %v (killed %d)", now, pids[0])
	}
}

// childPIDs lists this process's children that are hash workers.
func childPIDs(t *testing.T) []int {
	t.Helper()
	self := strconv.Itoa(os.Getpid())
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 || fields[1] != self {
			continue
		}
		argv, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if args := strings.Split(strings.TrimSuffix(string(argv), "\x00"), "\x00"); len(args) == 2 && args[1] == workerArg {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestProcessWorkersUnavailable: when no worker process can start, hashing still works, in
// this process.
func TestProcessWorkersUnavailable(t *testing.T) {
	// Workers of earlier tests may still be exiting: only a process started here counts.
	before := childPIDs(t)
	h := New(OWASP, 1, Isolation{Idle: true, Process: &WorkerCommand{Path: "/nonexistent/cashless-auth", Args: []string{"cashless-auth", workerArg}}})
	defer h.Close()
	ctx := context.Background()
	enc, err := h.Hash(ctx, "pw-123456")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, enc, "pw-123456"); err != nil || !ok {
		t.Fatalf("verify without worker processes: %v %v", ok, err)
	}
	for _, pid := range childPIDs(t) {
		if !slices.Contains(before, pid) {
			t.Fatalf("a worker process started: %d (children before: %v)", pid, before)
		}
	}
}
