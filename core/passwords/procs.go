package passwords

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// spareProcs lends the Go scheduler one extra P per niced hash in progress, and takes it back
// once hashing has been idle for spareLinger.
//
// Why: argon2 cannot yield, so a hash holds its P for its whole 20-30 ms; without a spare P,
// cheap requests would queue behind it in the Go scheduler, where the thread's nice value
// cannot help. But a P more than the CPUs it runs on costs every request a little (an idle P's
// thread spins and hands work over on each wake-up): on /tokens/verify at half of saturation
// that was 10 points of CPU and a doubled p99. So the spare P exists only while hashes run; a
// login flood keeps it (one stop-the-world to add it, one to remove it after the flood).
type spareProcs struct {
	mu     sync.Mutex
	active int // niced hashes running in the process
	lent   int // extra Ps currently added
	base   int // GOMAXPROCS before lending
	idle   *time.Timer
}

var spare spareProcs

// spareLinger is how long the extra Ps stay after the last hash.
var spareLinger = time.Second

func (s *spareProcs) acquire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active++
	if s.active <= s.lent {
		return
	}
	if s.lent == 0 {
		s.base = runtime.GOMAXPROCS(0)
	}
	s.lent = s.active
	runtime.GOMAXPROCS(s.base + s.lent)
}

func (s *spareProcs) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active > 0 || s.lent == 0 {
		return
	}
	if s.idle == nil {
		s.idle = time.AfterFunc(spareLinger, s.giveBack)
	} else {
		s.idle.Reset(spareLinger)
	}
}

// giveBack restores GOMAXPROCS if no hash started since the timer was set.
func (s *spareProcs) giveBack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active > 0 || s.lent == 0 {
		return
	}
	s.lent = 0
	if os.Getenv("GOMAXPROCS") != "" {
		runtime.GOMAXPROCS(s.base)
		return
	}
	// The runtime's own default, which also resumes following container CPU limit changes.
	runtime.SetDefaultGOMAXPROCS()
}
