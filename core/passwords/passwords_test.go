package passwords

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashVerify(t *testing.T) {
	h := New(OWASP, 2, Isolation{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	if strings.Contains(enc, "correct horse") {
		t.Fatal("hash contains the password")
	}
	ok, rehash, err := h.Verify(ctx, enc, "correct horse")
	if err != nil || !ok || rehash {
		t.Fatalf("verify good: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	ok, _, err = h.Verify(ctx, enc, "wrong horse")
	if err != nil || ok {
		t.Fatalf("verify bad: ok=%v err=%v", ok, err)
	}
	other, _ := h.Hash(ctx, "correct horse")
	if other == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestWeakerParamsAskForRehash(t *testing.T) {
	ctx := context.Background()
	weak := New(Params{Memory: 8192, Time: 1, Threads: 1}, 1, Isolation{})
	enc, _ := weak.Hash(ctx, "pw-123456")
	ok, rehash, err := New(OWASP, 1, Isolation{}).Verify(ctx, enc, "pw-123456")
	if err != nil || !ok || !rehash {
		t.Fatalf("ok=%v rehash=%v err=%v", ok, rehash, err)
	}
}

func TestLegacyBcrypt(t *testing.T) {
	legacy, err := bcrypt.GenerateFromPassword([]byte("legacy-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := New(OWASP, 1, Isolation{})
	ok, rehash, err := h.Verify(context.Background(), string(legacy), "legacy-pass")
	if err != nil || !ok || !rehash {
		t.Fatalf("bcrypt good: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	ok, _, _ = h.Verify(context.Background(), string(legacy), "nope")
	if ok {
		t.Fatal("bcrypt accepted a wrong password")
	}
}

func TestMalformedHashesAreMismatches(t *testing.T) {
	h := New(OWASP, 1, Isolation{})
	for _, enc := range []string{"", "plain", "$argon2id$v=19$m=1,t=1$x$y", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"} {
		ok, _, err := h.Verify(context.Background(), enc, "x")
		if ok || err != nil {
			t.Errorf("%q: ok=%v err=%v", enc, ok, err)
		}
	}
}

func TestPoolHonoursContext(t *testing.T) {
	h := New(OWASP, 1, Isolation{Nice: 5})
	defer h.Close()
	release := make(chan struct{})
	h.jobs <- &job{done: make(chan struct{}), probe: func() { <-release }} // occupy the only worker
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); err == nil {
		t.Fatal("expected an error while the pool is full and the context is done")
	}
	close(release)
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("the niced worker does not serve again: %v", err)
	}
}

func BenchmarkVerifyOWASP(b *testing.B) {
	h := New(OWASP, 0, Isolation{})
	enc, _ := h.Hash(context.Background(), "benchmark-password")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _, _ = h.Verify(context.Background(), enc, "benchmark-password")
	}
}

// BenchmarkVerifyOWASPProcess: verifications in worker processes, every worker busy; the pipe
// round trip and the worker's own scheduling are what it adds to BenchmarkVerifyOWASP.
func BenchmarkVerifyOWASPProcess(b *testing.B) {
	h := New(OWASP, 0, Isolation{Nice: 1, Process: testWorker()})
	defer h.Close()
	enc, _ := h.Hash(context.Background(), "benchmark-password")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _, _ = h.Verify(context.Background(), enc, "benchmark-password")
		}
	})
}
