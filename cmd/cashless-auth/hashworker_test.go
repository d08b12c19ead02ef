package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// TestHashWorkerProcesses: the real binary, serving with password.process (the default),
// hashes a login in a child started as `cashless-auth hash-worker` (named so in ps, and not
// falling back to in-process hashing), and that child dies with the server, even a server
// killed without a chance to close its pipes.
func TestHashWorkerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := filepath.Join(t.TempDir(), "cashless-auth")
	if err := testkit.BuildBinary(filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir() // no config.yaml: the embedded backend, every default
	env := testkit.ChildEnv(map[string]string{
		"CASHLESS_AUTH_JWT_SECRET":               "hash-worker-secret-hash-worker-secret-0123",
		"CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY":   base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
		"CASHLESS_AUTH_DATA_DIR":                 filepath.Join(work, "data"),
		"CASHLESS_AUTH_MODULES_FIREBASE_ENABLED": "false",
		// SCHED_IDLE hashing waits for every other runnable thread of a busy CI machine; the
		// worker's isolation itself is core/passwords' test.
		"CASHLESS_AUTH_PASSWORD_SCHED_IDLE": "false",
	})
	const email, password = "admin@workers.example", "workers-pass-123"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	create := exec.CommandContext(ctx, bin, "users", "create", "--email", email, "--role", "admin", "--password-stdin")
	create.Dir, create.Env, create.Stdin = work, env, strings.NewReader(password+"\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("users create: %v\n%s", err, out)
	}

	srv, err := testkit.Serve(t, "server", bin, work, env, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"email":"` + email + `","password":"` + password + `"}`
	resp, err := http.Post(srv.URL+"/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}

	workers := childrenOf(t, srv.Cmd.Process.Pid)
	if len(workers) == 0 {
		t.Fatalf("no child of the server after a login; its output:\n%s", srv.Log.String())
	}
	for _, pid := range workers {
		argv := procFile(t, pid, "cmdline")
		if argv != "cashless-auth\x00hash-worker\x00" {
			t.Errorf("child %d runs %q, want cashless-auth hash-worker", pid, argv)
		}
		if comm := strings.TrimSpace(procFile(t, pid, "comm")); comm != "cashless-auth" {
			t.Errorf("child %d is named %q in ps -e, want cashless-auth", pid, comm)
		}
	}
	if strings.Contains(srv.Log.String(), "hashing in-process") {
		t.Errorf("the server fell back to in-process hashing:\n%s", srv.Log.String())
	}

	// SIGKILL: no stop hook closes the pipes; the parent-death signal (or, idle, the EOF of
	// the stdin the kernel closed) must end them.
	if err := srv.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.Done
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range workers {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("hash worker %d outlived its server", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, child)
		}
	}
	return kids
}

func procFile(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// alive: the process exists and is no zombie (a zombie has exited; only its parent's wait is
// missing, and an orphan's is init's).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
