package core

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestLeaveMemoryToWorkers(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	debug.SetMemoryLimit(math.MaxInt64)
	if _, _, ok := leaveMemoryToWorkers(2, 19456); ok {
		t.Fatal("no limit set, yet one was lowered")
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit became %d", got)
	}

	// The chart's 320Mi with two workers at OWASP argon2id: 2 × (19 MiB + 24 MiB) left to them.
	debug.SetMemoryLimit(320 << 20)
	from, to, ok := leaveMemoryToWorkers(2, 19456)
	if !ok || from != 320<<20 || to != (320-2*(19+24))<<20 || debug.SetMemoryLimit(-1) != to {
		t.Fatalf("320 MiB, 2 workers: %d -> %d (%v), runtime %d", from, to, ok, debug.SetMemoryLimit(-1))
	}

	// Many workers in a small container: never below half the limit.
	debug.SetMemoryLimit(128 << 20)
	if _, to, _ := leaveMemoryToWorkers(32, 19456); to != 64<<20 {
		t.Fatalf("128 MiB, 32 workers: %d, want half the limit", to)
	}
}
