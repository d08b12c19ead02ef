package passwords

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// workerArg starts this test binary as a hash worker, as cmd/cashless-auth's hidden
// subcommand does for the server: the tests of Isolation.Process need a program to start.
const workerArg = "hash-worker"

func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == workerArg {
		if err := ServeWorker(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testWorker is this test binary in its hash-worker role.
func testWorker() *WorkerCommand { return Self(workerArg) }

// TestServeWorkerRefusesAStranger: a peer that does not open with this protocol's hello (an
// older release's server, anything else on the pipe) gets an error, not a misread request.
func TestServeWorkerRefusesAStranger(t *testing.T) {
	var out bytes.Buffer
	// An old-style request: op, memory, time, threads, then fields.
	err := ServeWorker(strings.NewReader("v\x00\x4c\x00\x00\x02\x00\x00\x00\x01"+strings.Repeat("\x00", 40)), &out)
	if err == nil || !strings.Contains(err.Error(), "hello") {
		t.Fatalf("err = %v, want a refused hello", err)
	}
	if out.Len() != 0 {
		t.Fatalf("answered %q to a stranger", out.Bytes())
	}
}
