package upgrade

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// release is a row of the release table in docs/upgrading.md.
type release struct {
	Version string // vMAJOR.MINOR.PATCH
	Commit  string // full commit id
}

var releaseRow = regexp.MustCompile(`^\|\s*(v(\d+)\.(\d+)\.(\d+))\s*\|\s*([0-9a-f]{40})\s*\|`)

// lastRelease returns the highest version of the release table in docs/upgrading.md.
func lastRelease(t *testing.T, root string) release {
	t.Helper()
	path := filepath.Join(root, "docs", "upgrading.md")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the upgrade gate needs the release table of docs/upgrading.md: %v", err)
	}
	defer f.Close()
	var best release
	var bestKey [3]int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := releaseRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var key [3]int
		for i := range key {
			key[i], _ = strconv.Atoi(m[2+i])
		}
		if best.Version == "" || key[0] > bestKey[0] || key[0] == bestKey[0] && (key[1] > bestKey[1] || key[1] == bestKey[1] && key[2] > bestKey[2]) {
			best, bestKey = release{Version: m[1], Commit: m[5]}, key
		}
	}
	if best.Version == "" {
		t.Fatalf("%s lists no release (a row `| vX.Y.Z | <full commit id> | ...`)", path)
	}
	return best
}

// git runs git in root and returns its stdout.
func git(root string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// requireCommit fails the test, saying why, when the release commit is not in this clone.
func requireCommit(t *testing.T, root string, rel release) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the upgrade gate builds %s from this repository's history and needs git: %v", rel.Version, err)
	}
	if _, err := git(root, "rev-parse", "--git-dir"); err != nil {
		t.Fatalf("the upgrade gate builds %s from this repository's history, but %s is not a git clone: %v", rel.Version, root, err)
	}
	if _, err := git(root, "cat-file", "-e", rel.Commit+"^{commit}"); err != nil {
		shallow, _ := git(root, "rev-parse", "--is-shallow-repository")
		if strings.TrimSpace(string(shallow)) == "true" {
			t.Fatalf("release %s (commit %s) is not in this clone because it is shallow: "+
				"run `git fetch --unshallow` (CI must clone with history)", rel.Version, rel.Commit)
		}
		t.Fatalf("release %s: commit %s is not in this clone (%v); fetch it, or fix docs/upgrading.md", rel.Version, rel.Commit, err)
	}
}

// exportTree writes the files of commit into dir, as `git archive` gives them.
func exportTree(root, commit, dir string) error {
	cmd := exec.Command("git", "archive", "--format=tar", commit)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	tr := tar.NewReader(out)
	var extractErr error
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			extractErr = err
			break
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, filepath.Clean(dir)+string(filepath.Separator)) {
			extractErr = fmt.Errorf("archive entry %q leaves the tree", h.Name)
			break
		}
		switch h.Typeflag {
		case tar.TypeDir:
			extractErr = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			extractErr = writeFile(name, tr, os.FileMode(h.Mode)&0o777)
		case tar.TypeSymlink:
			extractErr = os.Symlink(h.Linkname, name)
		}
		if extractErr != nil {
			break
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	return extractErr
}

func writeFile(name string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// binaries are the two programs the gate runs.
type binaries struct {
	old, cur string
	oldTree  string // the release's source tree (its config.yaml, chart and tenants)
}

// buildBoth exports the release's tree and builds it and today's tree at once.
func buildBoth(t *testing.T, root string, rel release) binaries {
	t.Helper()
	dir := t.TempDir()
	b := binaries{old: filepath.Join(dir, "cashless-auth-"+rel.Version), cur: filepath.Join(dir, "cashless-auth-current"), oldTree: filepath.Join(dir, "tree")}
	if err := exportTree(root, rel.Commit, b.oldTree); err != nil {
		t.Fatalf("export %s: %v", rel.Version, err)
	}
	began := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs[0] = testkit.BuildBinary(b.oldTree, b.old, "-ldflags", "-X main.version="+rel.Version)
	}()
	go func() {
		defer wg.Done()
		errs[1] = testkit.BuildBinary(root, b.cur, "-ldflags", "-X main.version=current")
	}()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s (%s) and the current tree in %v", rel.Version, rel.Commit[:12], time.Since(began).Round(time.Millisecond))
	return b
}

// run runs a CLI command of bin in dir and returns its stdout.
func run(t *testing.T, bin, dir string, env []string, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// printedID reads the {"id": N} that CLI creation commands print.
func printedID(t *testing.T, out string) int64 {
	t.Helper()
	var v struct {
		ID *int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID == nil {
		t.Fatalf("CLI printed %q, want {\"id\": N}", out)
	}
	return *v.ID
}

// serve starts bin serve in dir and waits until /health answers 200.
func serve(t *testing.T, name, bin, dir string, env []string) *testkit.Process {
	t.Helper()
	p, err := testkit.Serve(t, name, bin, dir, env, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stop sends SIGTERM and returns the process's log lines and how it exited.
func stop(p *testkit.Process) ([]logLine, error) {
	err := p.Stop(60 * time.Second)
	return parseLog(p.Log.String()), err
}

// logLine is one JSON log line of the service (log.format json).
type logLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Raw   string `json:"-"`
}

func parseLog(s string) []logLine {
	var out []logLine
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.Level == "" {
			l = logLine{Level: "unparsed"}
		}
		l.Raw = line
		out = append(out, l)
	}
	return out
}
