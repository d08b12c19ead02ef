// Package passwords hashes staff passwords with argon2id and verifies legacy bcrypt hashes,
// in a bounded worker pool so a login flood cannot starve the rest of the service.
package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id's cost parameters; the zero value is not usable.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// OWASP is the OWASP Password Storage Cheat Sheet minimum for argon2id.
var OWASP = Params{Memory: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformed means a stored hash could not be parsed; callers treat it as a mismatch.
var ErrMalformed = errors.New("passwords: malformed hash")

// Hasher hashes and verifies in a pool of `workers` goroutines: at most that many hashes run
// at once (bounding memory at workers × Params.Memory) and callers queue for a free worker.
type Hasher struct {
	params Params
	jobs   chan *job
	dummy  string
	once   sync.Once
	// verified counts the verifications that ran (Verify and Equalise), for metrics and tests.
	verified atomic.Uint64
}

// Isolation keeps hashing from starving cheap requests. When on, each worker runs on its own OS
// thread at a lower scheduling priority (Linux), so that when hashing and cheap requests
// compete for a CPU the kernel serves the cheap ones first: a login flood slows logins, not
// /tokens/verify. While such workers hash, the Go scheduler gets one spare P each (spareProcs).
// The zero value is no isolation.
type Isolation struct {
	// Nice is the threads' nice value (1-19); 0 with Idle false turns isolation off.
	Nice int
	// Idle runs the threads under SCHED_IDLE: a waking request thread preempts a hash at once,
	// where a merely niced hash may finish its time slice (a few ms) first, and hashing gets
	// only the CPU time requests leave. Nice is then irrelevant.
	Idle bool
	// Process, when set, hashes in child processes started from it (one per worker) whose every
	// thread runs at that priority: the serving process then never lends the Go scheduler a P
	// for a hash nor collects argon2's 19 MiB of garbage per hash. Nil: worker threads in this
	// process.
	Process *WorkerCommand
}

func (i Isolation) on() bool { return i.Idle || i.Nice > 0 }

// New builds a Hasher; workers ≤ 0 means one per CPU.
func New(p Params, workers int, iso Isolation) *Hasher {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{params: p, jobs: make(chan *job)}
	for i := 0; i < workers; i++ {
		go h.work(iso)
	}
	h.dummy = h.hash("cashless-auth timing equaliser")
	return h
}

// Close stops the workers once the queued hashes are done.
func (h *Hasher) Close() { h.once.Do(func() { close(h.jobs) }) }

// job is one hash or verification, run by a worker.
type job struct {
	verify            bool
	encoded, password string
	out               string // Hash
	ok, rehash        bool   // Verify
	err               error  // the worker failed (a child process died)
	probe             func() // instead of hashing: run on the worker's thread (tests look at it)
	done              chan struct{}
}

// exec runs j in this process.
func (h *Hasher) exec(j *job) {
	if j.probe != nil {
		j.probe()
		return
	}
	if j.verify {
		j.ok, j.rehash = h.verify(j.encoded, j.password)
	} else {
		j.out = h.hash(j.password)
	}
}

func (h *Hasher) work(iso Isolation) {
	if iso.Process != nil && iso.on() {
		c := &child{iso: iso}
		defer c.close()
		for j := range h.jobs {
			if j.err = c.do(h.params, j); errors.Is(j.err, errStart) {
				// Degraded but available: hash here, at the requests' priority, rather than
				// refuse logins. The failure is logged by the caller's error path only if
				// this fails too.
				fmt.Fprintln(os.Stderr, "passwords:", j.err, "- hashing in-process")
				j.err = nil
				h.exec(j)
			}
			close(j.done)
		}
		return
	}
	if iso.on() {
		// The thread dies with this goroutine, so its priority never leaks to other work.
		runtime.LockOSThread()
		lowerPriority(iso)
	}
	for j := range h.jobs {
		if iso.on() {
			spare.acquire()
			h.exec(j)
			spare.release()
		} else {
			h.exec(j)
		}
		close(j.done)
	}
}

// run executes fn on a worker, waiting for a free one unless ctx ends first. A hash that has
// started always finishes: argon2 cannot be interrupted.
func (h *Hasher) run(ctx context.Context, j *job) error {
	j.done = make(chan struct{})
	select {
	case h.jobs <- j:
	case <-ctx.Done():
		return fmt.Errorf("passwords: waiting for a hashing worker: %w", ctx.Err())
	}
	<-j.done
	return j.err
}

// Hash returns a PHC-format argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	j := &job{password: password}
	err := h.run(ctx, j)
	return j.out, err
}

// Verify reports whether password matches encoded (argon2id or legacy bcrypt), and whether the
// hash should be replaced by a fresh argon2id one. A mismatch is a value, not an error.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	j := &job{verify: true, encoded: encoded, password: password}
	if err = h.run(ctx, j); err == nil {
		h.verified.Add(1)
	}
	return j.ok, j.rehash, err
}

// Verifications is the number of verifications that ran so far, Equalise's included.
func (h *Hasher) Verifications() uint64 { return h.verified.Load() }

func (h *Hasher) verify(encoded, password string) (ok, rehash bool) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := decode(encoded)
		if err != nil {
			return h.refuse(password)
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
		ok := subtle.ConstantTimeCompare(got, key) == 1
		return ok, ok && p != h.params
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		ok := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil
		return ok, ok
	default:
		// A hash this service cannot read (a disabled account's "!"-marked one, a corrupt row)
		// is a wrong password, at a wrong password's cost: its answer must not be faster.
		return h.refuse(password)
	}
}

// refuse spends a verification's work on the dummy hash and answers no.
func (h *Hasher) refuse(password string) (ok, rehash bool) {
	h.verify(h.dummy, password)
	return false, false
}

// Equalise spends one verification's worth of work, so an unknown account costs the same
// as a known one and response times reveal nothing. Its error is Verify's: the work did not run.
func (h *Hasher) Equalise(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

func (h *Hasher) hash(password string) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, ErrMalformed
	}
	// Bound attacker-influenced costs should a hash ever come from an untrusted import.
	if p.Memory == 0 || p.Memory > 1<<21 || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return Params{}, nil, nil, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, ErrMalformed
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return Params{}, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}
