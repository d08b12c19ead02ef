package testkit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Process is `cashless-auth serve` run as its own process, as deployments run it: for tests of
// what only a real process shows (several replicas, SIGTERM, upgrades between binaries).
type Process struct {
	Name string
	URL  string // http://127.0.0.1:<port>
	Cmd  *exec.Cmd
	Log  *LockedBuffer // its stdout and stderr
	Done chan struct{} // closed when it has exited
	Err  error         // Cmd.Wait's result, read after Done
}

// BuildBinary builds ./cmd/cashless-auth of the module at dir into out, statically as the image
// does (scripts/test.sh sets CGO_ENABLED=0 for the whole run, so this shares its compiled
// dependencies). args go before the package, e.g. "-ldflags", "-X main.version=v1".
func BuildBinary(dir, out string, args ...string) error {
	cmd := exec.Command("go", append(append([]string{"build", "-buildvcs=false", "-o", out}, args...), "./cmd/cashless-auth")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %w\n%s", dir, err, b)
	}
	return nil
}

// Serve starts `bin serve` in dir with env on a free port and waits up to timeout for /health;
// a port taken between the probe and the bind (a busy machine) is retried on another. The
// process is killed when the test ends, and its output logged if the test failed. It returns
// an error rather than failing, so that several can start concurrently.
func Serve(t testing.TB, name, bin, dir string, env []string, timeout time.Duration) (*Process, error) {
	for attempt := 1; ; attempt++ {
		addr, err := FreePort()
		if err != nil {
			return nil, fmt.Errorf("%s: free port: %w", name, err)
		}
		p := &Process{Name: name, URL: "http://" + addr, Log: &LockedBuffer{}, Done: make(chan struct{})}
		p.Cmd = exec.Command(bin, "serve")
		p.Cmd.Dir = dir
		p.Cmd.Env = append(env[:len(env):len(env)], "CASHLESS_AUTH_SERVER_ADDR="+addr)
		p.Cmd.Stdout, p.Cmd.Stderr = p.Log, p.Log
		if err := p.Cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: start: %w", name, err)
		}
		go func() { p.Err = p.Cmd.Wait(); close(p.Done) }()
		t.Cleanup(func() {
			select {
			case <-p.Done:
			default:
				_ = p.Cmd.Process.Kill()
				<-p.Done
			}
			if t.Failed() {
				t.Logf("%s (%s, %v) output:\n%s", p.Name, p.URL, p.Err, p.Log.String())
			}
		})
		err = p.WaitHealthy(timeout)
		if err == nil {
			return p, nil
		}
		if attempt < 5 && strings.Contains(p.Log.String(), "address already in use") {
			continue
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
}

// WaitHealthy polls /health until it answers 200, the process exits, or timeout passes.
func (p *Process) WaitHealthy(timeout time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.Get(p.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Done:
			return fmt.Errorf("exited before becoming healthy (%w)", p.Err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/health not 200 after %v (last error: %w)", timeout, err)
		}
	}
}

// Stop sends SIGTERM and waits up to timeout for the exit (then kills); it returns how the
// process exited, or an error saying it had to be killed.
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done:
		return p.Err
	case <-time.After(timeout):
		_ = p.Cmd.Process.Kill()
		<-p.Done
		return fmt.Errorf("%s did not exit within %v of SIGTERM", p.Name, timeout)
	}
}

// FreePort returns 127.0.0.1:<port> of a port that was free a moment ago. It prefers ports below
// the kernel's ephemeral range: a port handed out by listening on :0 and closing is soon taken
// again as the local port of some outgoing connection on a busy machine.
func FreePort() (string, error) {
	lo, hi := 20000, 32000
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first, last int
		if _, err := fmt.Sscan(string(b), &first, &last); err == nil && first > 11000 {
			lo, hi = 10000, first
		}
	}
	for range 50 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lo+mrand.IntN(hi-lo)))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ChildEnv is this process's environment without any CASHLESS_AUTH_* setting of the developer's
// shell or the Firebase emulator switch (the service refuses to start with it), plus set.
func ChildEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CASHLESS_AUTH_") || k == "FIREBASE_AUTH_EMULATOR_HOST" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// LockedBuffer is a bytes.Buffer safe for a process's writes and a test's reads at once.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StandInKeyring writes an Ed25519 signing key "<kid>.pem" into a temporary directory, where a
// deployment mounts its keyring Secret (jwt.keys_dir), and checks that the service loads it.
func StandInKeyring(t testing.TB, kid string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, kid+".pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.LoadKeysDir(dir); err != nil {
		t.Fatalf("stand-in keyring: %v", err)
	}
	return dir
}
