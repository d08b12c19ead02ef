package passwords

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Hashing in child processes (Isolation.Process): the binary re-executes itself with
// workerEnv set, and this package's init turns that process into a hash server on its stdin and
// stdout before main runs (the same holds for test binaries, which link this package too). One
// child per worker, one request at a time; a child that dies fails the request it held and is
// started again for the next one.

// workerEnv carries the child's isolation: "idle", or "nice=N".
const workerEnv = "CASHLESS_AUTH_HASH_WORKER"

// maxField bounds a length-prefixed field read from the pipe (a password or a stored hash).
const maxField = 1 << 20

func init() {
	if mode := os.Getenv(workerEnv); mode != "" {
		os.Exit(serveChild(mode, os.Stdin, os.Stdout))
	}
}

// serveChild answers requests until stdin closes (the parent's Close, or its death).
func serveChild(mode string, in io.Reader, out io.Writer) int {
	runtime.GOMAXPROCS(1)
	lowerProcess(parseMode(mode))
	r, w := bufio.NewReader(in), bufio.NewWriter(out)
	for {
		p, j, err := readRequest(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintln(os.Stderr, "cashless-auth hash worker:", err)
			return 2
		}
		(&Hasher{params: p}).exec(j)
		if err := writeResponse(w, j); err != nil {
			return 2
		}
	}
}

func parseMode(mode string) Isolation {
	if mode == "idle" {
		return Isolation{Idle: true}
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(mode, "nice="))
	return Isolation{Nice: n}
}

func (iso Isolation) mode() string {
	if iso.Idle {
		return "idle"
	}
	return "nice=" + strconv.Itoa(iso.Nice)
}

// lowerProcess lowers every thread of this process: the Go runtime has started some before
// init, and threads started later inherit the priority of the thread that creates them.
func lowerProcess(iso Isolation) {
	for range 2 { // a thread created during the first pass is caught by the second
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			lowerPriority(iso) // at least this thread
			return
		}
		for _, t := range tasks {
			if tid, err := strconv.Atoi(t.Name()); err == nil {
				lowerThread(tid, iso)
			}
		}
	}
}

// child is one hashing process, started on first use.
type child struct {
	iso Isolation
	cmd *exec.Cmd
	in  io.WriteCloser
	w   *bufio.Writer
	r   *bufio.Reader
}

// workerEnviron is the parent's environment without the service's own settings: the worker
// needs none of them, and they include secrets (CASHLESS_AUTH_JWT_SECRET, database URLs).
func workerEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CASHLESS_AUTH_") {
			env = append(env, kv)
		}
	}
	return env
}

// workerExecutable is the binary a worker runs: this one.
var workerExecutable = os.Executable

func (c *child) start() error {
	exe, err := workerExecutable()
	if err != nil {
		return fmt.Errorf("passwords: hash worker: %w", err)
	}
	// The argument only names the process in ps and top: init takes over before any parsing.
	cmd := exec.Command(exe, "hash-worker")
	cmd.Env = append(workerEnviron(), workerEnv+"="+c.iso.mode())
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("passwords: start hash worker: %w", err)
	}
	c.cmd, c.in, c.w, c.r = cmd, in, bufio.NewWriter(in), bufio.NewReader(out)
	return nil
}

// errStart: no worker process could be started (the binary is gone, a process limit).
var errStart = errors.New("passwords: cannot start a hash worker")

// do runs j in the child, starting it if needed. A child that dies mid-request (killed, out of
// memory) is replaced and j retried once in the new one, so a login does not fail for it; if
// no child can be started, do reports errStart and the caller hashes in-process instead.
func (c *child) do(p Params, j *job) error {
	if j.probe != nil {
		j.probe()
		return nil
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if c.cmd == nil {
			if serr := c.start(); serr != nil {
				return fmt.Errorf("%w: %w", errStart, serr)
			}
		}
		if err = writeRequest(c.w, p, j); err == nil {
			if err = readResponse(c.r, j); err == nil {
				return nil
			}
		}
		c.close()
	}
	return fmt.Errorf("passwords: hash worker: %w", err)
}

func (c *child) close() {
	if c.cmd == nil {
		return
	}
	_ = c.in.Close() // the child exits on EOF
	_ = c.cmd.Wait()
	c.cmd = nil
}

// Wire format, little-endian: request = op byte ('h' hash, 'v' verify), memory u32, time u32,
// threads u8, password and encoded hash as u32-length-prefixed bytes; response = ok byte,
// rehash byte, output as u32-length-prefixed bytes.

func writeRequest(w *bufio.Writer, p Params, j *job) error {
	op := byte('h')
	if j.verify {
		op = 'v'
	}
	var hdr [10]byte
	hdr[0] = op
	binary.LittleEndian.PutUint32(hdr[1:], p.Memory)
	binary.LittleEndian.PutUint32(hdr[5:], p.Time)
	hdr[9] = p.Threads
	_, _ = w.Write(hdr[:])
	writeField(w, j.password)
	writeField(w, j.encoded)
	return w.Flush()
}

func readRequest(r *bufio.Reader) (Params, *job, error) {
	var hdr [10]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Params{}, nil, err
	}
	p := Params{Memory: binary.LittleEndian.Uint32(hdr[1:]), Time: binary.LittleEndian.Uint32(hdr[5:]), Threads: hdr[9]}
	j := &job{verify: hdr[0] == 'v'}
	var err error
	if j.password, err = readField(r); err != nil {
		return p, nil, err
	}
	if j.encoded, err = readField(r); err != nil {
		return p, nil, err
	}
	return p, j, nil
}

func writeResponse(w *bufio.Writer, j *job) error {
	var hdr [2]byte
	if j.ok {
		hdr[0] = 1
	}
	if j.rehash {
		hdr[1] = 1
	}
	_, _ = w.Write(hdr[:])
	writeField(w, j.out)
	return w.Flush()
}

func readResponse(r *bufio.Reader, j *job) error {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	j.ok, j.rehash = hdr[0] == 1, hdr[1] == 1
	var err error
	j.out, err = readField(r)
	return err
}

func writeField(w *bufio.Writer, s string) {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	_, _ = w.Write(n[:])
	_, _ = w.WriteString(s)
}

func readField(r *bufio.Reader) (string, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size > maxField {
		return "", fmt.Errorf("field of %d bytes", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}
