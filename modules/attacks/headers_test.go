package attacks_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// Request headers are capped (NOTES.md, "Hardening decisions": about 16 KiB, 431). Go's default
// of 1 MiB let 100 connections, each sending a 1 MiB header, grow the process by some 290 MiB
// that it kept for minutes. The cap answers before any route runs, so no limiter, log line or
// handler sees the request.

// rawRequest sends a POST /tokens/verify whose headers carry extra bytes of padding, over its own
// connection, and returns the status line's code.
func rawRequest(t *testing.T, env *testkit.Env, header string, padding int) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(env.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	body := `{"token":"x"}`
	req := fmt.Sprintf("POST /tokens/verify HTTP/1.1\r\nHost: attack.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s: %s\r\n\r\n%s",
		len(body), header, strings.Repeat("a", padding), body)
	// The server may answer and close before reading everything: a write error then is fine.
	go func() { _, _ = conn.Write([]byte(req)) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s header of %d bytes: no HTTP answer: %v", header, padding, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestHeaderCap: headers up to the cap are served; above it, a single big header or many
// cookies get 431, from one connection or a hundred at once, and the service stays up.
func TestHeaderCap(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		for _, tc := range []struct {
			header  string
			padding int
			want    int
		}{
			{"X-Padding", 8 << 10, 200},
			{"X-Padding", 15 << 10, 200},
			{"X-Padding", 24 << 10, 431},
			{"Cookie", 64 << 10, 431}, // a gateway forwarding another app's cookies
			{"X-Padding", 1 << 20, 431},
		} {
			if got := rawRequest(t, env, tc.header, tc.padding); got != tc.want {
				t.Errorf("%s header of %d KiB: %d, want %d", tc.header, tc.padding>>10, got, tc.want)
			}
		}

		var wg sync.WaitGroup
		statuses := make(chan int, 100)
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- rawRequest(t, env, "X-Padding", 1<<20)
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[431] != 100 {
			t.Errorf("100 connections with a 1 MiB header each: %v, want 100 × 431", count)
		}
		if r := env.Client.Do("GET", "/health", nil); r.Status != 200 {
			t.Errorf("GET /health after the flood: %d", r.Status)
		}
	})
}
