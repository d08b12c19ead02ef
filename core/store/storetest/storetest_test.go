package storetest_test

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
)

// recordTB records Fatalf and Skip instead of ending the test, to check Backends' messages.
type recordTB struct {
	testing.TB
	fatal, skipped string
}

type stop struct{}

func (r *recordTB) Helper() {}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(stop{})
}

func (r *recordTB) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	panic(stop{})
}

// backends runs Backends(r), stopping where its Fatalf or Skip would end the test.
func (r *recordTB) backends() (out []storetest.Backend) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stop); !ok {
				panic(v)
			}
		}
	}()
	return storetest.Backends(r)
}

func names(bs []storetest.Backend) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}

// listen returns a PostgreSQL URL on a local listener and a check that nothing connected to it.
func listen(t *testing.T) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return "postgres://postgres@" + ln.Addr().String() + "/postgres?sslmode=disable&connect_timeout=1", func() {
		t.Helper()
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
		if c, err := ln.Accept(); err == nil {
			_ = c.Close()
			t.Fatal("PostgreSQL was contacted under -short")
		}
	}
}

// Under -short the embedded backend runs, PostgreSQL is left out and never contacted.
func TestShortLeavesPostgresOut(t *testing.T) {
	storetest.SetShort(t, true)
	u, untouched := listen(t)
	t.Setenv(storetest.EnvDatabaseURL, u)
	for _, sel := range []string{"", "embedded,postgres", "postgres, embedded"} {
		t.Setenv(storetest.EnvBackends, sel)
		r := &recordTB{TB: t}
		got := names(r.backends())
		if r.fatal != "" || r.skipped != "" {
			t.Fatalf("%s=%q: fatal %q, skipped %q", storetest.EnvBackends, sel, r.fatal, r.skipped)
		}
		if !slices.Equal(got, []string{storetest.Embedded}) {
			t.Errorf("%s=%q: backends %v, want [embedded]", storetest.EnvBackends, sel, got)
		}
		if sk := storetest.Skipped(t); !slices.Equal(sk, []string{storetest.Postgres}) {
			t.Errorf("%s=%q: Skipped = %v, want [postgres]", storetest.EnvBackends, sel, sk)
		}
	}
	t.Setenv(storetest.EnvBackends, "embedded")
	if sk := storetest.Skipped(t); len(sk) != 0 {
		t.Errorf("embedded only: Skipped = %v, want none", sk)
	}
	untouched()
}

// Under -short a test that selected only PostgreSQL is skipped, naming the service and make test.
func TestShortSkipsPostgresOnly(t *testing.T) {
	storetest.SetShort(t, true)
	u, untouched := listen(t)
	t.Setenv(storetest.EnvDatabaseURL, u)
	t.Setenv(storetest.EnvBackends, "postgres")
	r := &recordTB{TB: t}
	r.backends()
	if r.fatal != "" {
		t.Fatalf("failed under -short: %q", r.fatal)
	}
	if r.skipped == "" {
		t.Fatal("a postgres-only selection was not skipped under -short")
	}
	for _, want := range []string{"-short", "PostgreSQL", storetest.EnvDatabaseURL, "make test"} {
		if !strings.Contains(r.skipped, want) {
			t.Errorf("skip message %q lacks %q", r.skipped, want)
		}
	}
	untouched()
}

// Without -short an unreachable PostgreSQL fails the test: the full run never skips it.
func TestFullRunFailsWithoutPostgres(t *testing.T) {
	storetest.SetShort(t, false)
	t.Setenv(storetest.EnvDatabaseURL, "postgres://postgres:hunter2@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1")
	t.Setenv(storetest.EnvBackends, "")
	if sk := storetest.Skipped(t); len(sk) != 0 {
		t.Errorf("Skipped = %v without -short, want none", sk)
	}
	r := &recordTB{TB: t}
	r.backends()
	if r.skipped != "" {
		t.Fatalf("skipped without -short: %q", r.skipped)
	}
	if r.fatal == "" {
		t.Fatal("an unreachable PostgreSQL did not fail the test")
	}
	for _, want := range []string{"127.0.0.1:1", storetest.EnvDatabaseURL} {
		if !strings.Contains(r.fatal, want) {
			t.Errorf("message %q lacks %q", r.fatal, want)
		}
	}
	if strings.Contains(r.fatal, "hunter2") {
		t.Errorf("message leaks the password: %q", r.fatal)
	}
}
