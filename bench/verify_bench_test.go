// Package bench holds the in-process benchmark of POST /tokens/verify (the real handler: fx graph,
// middleware, router, limiter, sessions, verifiers) used for CPU profiles and allocation counts;
// bench/run.sh (`make bench`) is the over-the-wire load test. See docs/performance.md.
//
//	go test ./bench -run '^$' -bench 'Verify/postgres' -benchmem -cpuprofile verify.pprof
package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cashlessmedia/cashless-auth/bench/bare"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// clientIPs is the number of distinct X-Forwarded-For addresses the requests rotate through, as
// bench/run.sh does: many pods, each far under the 600/min cap of /tokens/verify.
const clientIPs = 20_000

// proxy is the peer address of every request (httptest's default), trusted for X-Forwarded-For.
const proxy = "192.0.2.1"

// BenchmarkVerify drives POST /tokens/verify of the real service through Server.ServeHTTP on
// every backend storetest selects (CASHLESS_AUTH_TEST_BACKENDS), plus the bare reference handler.
// The harness allocates nothing per request (request and response writer are reused per
// goroutine), so allocs/op is the server's own.
func BenchmarkVerify(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		run(b, bare.Handler(), `{"token":"x.y.z"}`, rotating(), want{status: 200, body: `"valid":false`})
	})
	for _, be := range storetest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			env := testkit.Start(b, be, testkit.Options{Plugins: modules.All(), Config: map[string]any{
				"log.level":                 "warn",
				"ratelimit.trusted_proxies": []string{proxy + "/32"},
			}})
			env.User(b, "bench@example.com", "bench-password-1", "admin", nil, 0)
			access, _ := env.Login(b, "bench@example.com", "bench-password-1", "admin")
			ev := env.Event(b, "Bench festival")
			r := env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "bench", "scopes": []string{"tickets:read"}}, testkit.Bearer(access)...)
			if r.Status != 200 {
				b.Fatalf("create API key: %d %s", r.Status, r.Body)
			}
			key, _ := r.JSON(b)["api_key"].(string)
			srv := env.Server

			// A valid access token: limiter + signature + session lookup (the common path).
			b.Run("access_token", func(b *testing.B) {
				run(b, srv, body(access), rotating(), want{status: 200, body: `"valid":true`})
			})
			// A valid API key: limiter + key lookup.
			b.Run("api_key", func(b *testing.B) {
				run(b, srv, body(key), rotating(), want{status: 200, body: `"valid":true`})
			})
			// A forged JWT: limiter + signature check only.
			b.Run("bad_signature", func(b *testing.B) {
				run(b, srv, body(forge(access)), rotating(), want{status: 200, body: `"valid":false`})
			})
			// One client over its cap: the 429 path (the first 600 requests pass).
			b.Run("rate_limited", func(b *testing.B) {
				run(b, srv, body(access), []string{"198.51.100.7"}, want{status: 429, allowOK: true})
			})
		})
	}
}

type want struct {
	status  int
	body    string // substring of a 200's body
	allowOK bool   // rate_limited: 200s before the bucket empties are expected
}

func body(token string) string { return `{"token":"` + token + `"}` }

// forge flips the signature's first character: well-formed, wrongly signed.
func forge(jwt string) string {
	i := strings.LastIndexByte(jwt, '.') + 1
	c := byte('A')
	if jwt[i] == 'A' {
		c = 'B'
	}
	return jwt[:i] + string(c) + jwt[i+1:]
}

func rotating() []string {
	ips := make([]string, clientIPs)
	for i := range ips {
		ips[i] = "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
	}
	return ips
}

func run(b *testing.B, h http.Handler, payload string, ips []string, w want) {
	xff := make([][]string, len(ips))
	for i, ip := range ips {
		xff[i] = []string{ip}
	}
	var next, bad, limited atomic.Int64
	var firstBad atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tmpl := httptest.NewRequest(http.MethodPost, "/tokens/verify", nil)
		tmpl.RemoteAddr = proxy + ":40000"
		tmpl.ContentLength = int64(len(payload))
		hdr := http.Header{"Content-Type": {"application/json"}}
		tmpl.Header = hdr
		req := new(http.Request)
		rd := new(reader)
		out := &sink{h: http.Header{}, buf: make([]byte, 0, 1024)}
		for pb.Next() {
			hdr["X-Forwarded-For"] = xff[next.Add(1)%int64(len(xff))]
			rd.Reset(payload)
			*req = *tmpl
			req.Body = rd
			out.reset()
			h.ServeHTTP(out, req)
			switch {
			case out.status == w.status && (w.body == "" || bytes.Contains(out.buf, []byte(w.body))):
				if w.status == http.StatusTooManyRequests {
					limited.Add(1)
				}
			case w.allowOK && out.status == http.StatusOK:
			default:
				if bad.Add(1) == 1 {
					firstBad.Store(strconv.Itoa(out.status) + " " + string(out.buf))
				}
			}
		}
	})
	b.StopTimer()
	if n := bad.Load(); n > 0 {
		b.Fatalf("%d unexpected responses, first: %v", n, firstBad.Load())
	}
	if w.status == http.StatusTooManyRequests {
		b.ReportMetric(float64(limited.Load())/float64(b.N), "429s/op")
	}
}

// reader is a reusable request body.
type reader struct{ strings.Reader }

func (*reader) Close() error { return nil }

// sink is a reusable ResponseWriter that keeps the status and body.
type sink struct {
	h      http.Header
	status int
	buf    []byte
}

func (s *sink) Header() http.Header { return s.h }

func (s *sink) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *sink) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (s *sink) reset() {
	clear(s.h)
	s.status = 0
	s.buf = s.buf[:0]
}
