package passwords

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Hashing in child processes (Isolation.Process): the Hasher starts the command it was given,
// which is expected to call ServeWorker; the program decides that it can play that role (a
// subcommand), never this package. One child per worker, one request at a time; a child that
// dies fails the request it held and is started again for the next one.

// maxField bounds a length-prefixed field read from the pipe (a password or a stored hash).
const maxField = 1 << 20

// hello opens the pipe, followed by the isolation the worker applies to itself: a worker
// that reads anything else (another release's server, a wrong command line) stops there
// instead of misreading requests.
const hello = "cashless-auth hash worker 1\n"

// WorkerCommand is a program that serves hash requests on its stdin and stdout (ServeWorker).
type WorkerCommand struct {
	Path string   // the executable
	Args []string // its argv: Args[0] is the name ps shows
}

// Self is this running program started again with args (its hash-worker subcommand). On Linux
// it is /proc/self/exe, the very file this process runs even if its path has since been given
// to another release, so a worker always speaks its server's protocol.
func Self(args ...string) *WorkerCommand {
	path := selfExe()
	name := filepath.Base(os.Args[0])
	return &WorkerCommand{Path: path, Args: append([]string{name}, args...)}
}

// ServeWorker turns the calling process into a hash worker: it answers requests from in on out
// until in closes (the server's Close, or its death), and returns nil then. The program's
// hash-worker entry point calls it with os.Stdin and os.Stdout.
func ServeWorker(in io.Reader, out io.Writer) error {
	r, w := bufio.NewReader(in), bufio.NewWriter(out)
	iso, err := readHello(r)
	if err != nil {
		return fmt.Errorf("passwords: hash worker: %w", err)
	}
	runtime.GOMAXPROCS(1)
	nameProcess()
	lowerProcess(iso)
	for {
		p, j, err := readRequest(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("passwords: hash worker: %w", err)
		}
		(&Hasher{params: p}).exec(j)
		if err := writeResponse(w, j); err != nil {
			return fmt.Errorf("passwords: hash worker: %w", err)
		}
	}
}

// The hello is followed by the isolation: idle byte, nice byte.
func writeHello(w *bufio.Writer, iso Isolation) {
	_, _ = w.WriteString(hello)
	var b [2]byte
	if iso.Idle {
		b[0] = 1
	}
	b[1] = byte(iso.Nice)
	_, _ = w.Write(b[:])
}

func readHello(r *bufio.Reader) (Isolation, error) {
	var b [len(hello) + 2]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Isolation{}, fmt.Errorf("reading the hello: %w", err)
	}
	if string(b[:len(hello)]) != hello {
		return Isolation{}, fmt.Errorf("unknown hello %q", b[:len(hello)])
	}
	return Isolation{Idle: b[len(hello)] == 1, Nice: int(b[len(hello)+1])}, nil
}

// lowerProcess lowers every thread of this process: the Go runtime has started some already,
// and threads started later inherit the priority of the thread that creates them.
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

func (c *child) start() error {
	wc := c.iso.Process
	cmd := &exec.Cmd{Path: wc.Path, Args: wc.Args, Env: workerEnviron(), Stderr: os.Stderr, SysProcAttr: childAttr()}
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
	writeHello(c.w, c.iso) // flushed with the first request
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
