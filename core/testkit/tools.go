package testkit

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// RepoRoot is the repository's root directory, wherever the test runs.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testkit: cannot locate the repository root")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var tools sync.Map // tool name -> *toolResult

type toolResult struct {
	once sync.Once
	out  string
	err  error
}

// Tool installs a tool with `bash scripts/tools.sh <name>` (once per test binary; `make test`
// prepares it through TEST_TOOLS), then returns the trimmed output of `bash scripts/tools.sh
// <query...>` (where the tool lives: "node-idp-dir", "dir"). A tool that cannot be installed fails
// the test, saying why: the test needs the real program and never skips without it.
func Tool(t testing.TB, name string, query ...string) string {
	t.Helper()
	v, _ := tools.LoadOrStore(name+"\x00"+strings.Join(query, "\x00"), &toolResult{})
	r := v.(*toolResult)
	script := filepath.Join(RepoRoot(t), "scripts", "tools.sh")
	r.once.Do(func() {
		if out, err := exec.Command("bash", script, name).CombinedOutput(); err != nil {
			r.err = fmt.Errorf("installing %s with `bash scripts/tools.sh %s` failed (network, npm registry or apt sources reachable?): %w\n%s", name, name, err, out)
			return
		}
		if len(query) == 0 {
			return
		}
		out, err := exec.Command("bash", append([]string{script}, query...)...).Output()
		if err != nil {
			r.err = fmt.Errorf("`bash scripts/tools.sh %s`: %w", strings.Join(query, " "), err)
		}
		r.out = strings.TrimSpace(string(out))
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.out
}
