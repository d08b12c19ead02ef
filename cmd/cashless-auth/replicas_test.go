package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// TestReplicas is issue 6's "Done means": three replicas of the real binary, as separate
// processes on their own ports, share one PostgreSQL database and one Redis keyspace and behave
// as one service; SIGTERM under load drains without losing a request.
//
// Subtests share the replicas and run in order; "sigterm" must stay last since it stops one.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three replicas of the binary against PostgreSQL and Redis")
	}
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGTERM")
	}
	began := time.Now()
	const drainDelay = time.Second

	// Build while the database is being created: linking is the slowest step.
	bin := filepath.Join(t.TempDir(), "cashless-auth")
	var buildErr error
	built := make(chan struct{})
	go func() { buildErr = testkit.BuildBinary(filepath.Join("..", ".."), bin); close(built) }()
	t.Cleanup(func() { <-built }) // before the temporary directory goes, even on t.Fatal

	var pg *storetest.Backend
	for _, b := range storetest.Backends(t) { // fails the test when PostgreSQL is unreachable
		if b.Name == storetest.Postgres {
			pg = &b
		}
	}
	if pg == nil {
		t.Skipf("%s excludes %s: replicas need a shared database", storetest.EnvBackends, storetest.Postgres)
	}
	rc := statetest.Client(t) // fails the test when Redis is unreachable
	prefix := statetest.Prefix(t, rc)
	<-built
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	t.Logf("binary built, database and keyspace ready in %v", time.Since(began).Round(time.Millisecond))

	work := t.TempDir() // working directory of every process: no config.yaml is read
	env := testkit.ChildEnv(map[string]string{
		"CASHLESS_AUTH_DATABASE_URL":             pg.URL,
		"CASHLESS_AUTH_REDIS_URL":                statetest.RedisURL(),
		"CASHLESS_AUTH_REDIS_PREFIX":             prefix,
		"CASHLESS_AUTH_JWT_SECRET":               "replicas-secret-replicas-secret-replicas-0123",
		"CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY":   base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
		"CASHLESS_AUTH_DATA_DIR":                 filepath.Join(work, "data"),
		"CASHLESS_AUTH_LOG_LEVEL":                "warn",
		"CASHLESS_AUTH_MODULES_FIREBASE_ENABLED": "false",
		// The load of the SIGTERM subtest is far above the contract's 600/min per IP.
		"CASHLESS_AUTH_RATELIMIT_ROUTES_SESSION_VERIFY": "100000/minute",
		// The rate-limit subtest exhausts one client's login budget across the replicas; an hourly
		// budget (one login back every 6 min) keeps that true however slowly a loaded machine
		// hashes (SCHED_IDLE workers wait for every other runnable thread), where 10/minute gave
		// one back every 6 s.
		"CASHLESS_AUTH_RATELIMIT_ROUTES_PASSWORD_LOGIN": "10/hour",
		// The rate-limit subtest plays a client behind the load balancer (X-Forwarded-For), so
		// the logins of the setup, from 127.0.0.1 itself, do not spend its budget.
		"CASHLESS_AUTH_RATELIMIT_TRUSTED_PROXIES": "127.0.0.1/32",
		"CASHLESS_AUTH_SERVER_SHUTDOWN_TIMEOUT":   "10s",
		// On SIGTERM, readiness turns false and the replica serves on for this long before its
		// listener closes, which makes the 503 of /ready observable.
		"CASHLESS_AUTH_SERVER_DRAIN_DELAY": drainDelay.String(),
	})

	cli := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env, cmd.Stdin = work, env, strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("cashless-auth %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	cli("", "migrate")
	const adminEmail, adminPassword = "admin@replicas.example", "replicas-pass-123"
	adminID := printedIDOf(t, cli(adminPassword+"\n", "users", "create", "--email", adminEmail, "--role", "admin", "--password-stdin"))
	eventID := printedIDOf(t, cli("", "events", "create", "--name", "Replica Fest"))

	start := time.Now()
	var reps [3]*replica
	var wg sync.WaitGroup
	for i, name := range []string{"A", "B", "C"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i] = startReplica(t, name, bin, work, env)
		}()
	}
	wg.Wait()
	for _, r := range reps {
		if r == nil {
			t.FailNow() // startReplica reported why
		}
	}
	a, b, c := reps[0], reps[1], reps[2]
	t.Logf("replicas healthy in %v: A %s, B %s, C %s", time.Since(start).Round(time.Millisecond), a.URL, b.URL, c.URL)

	h := &httpClient{t: t, c: &http.Client{Timeout: 15 * time.Second}}
	logins := 0
	login := func(h *httpClient, r *replica) pair {
		h.t.Helper()
		// Each login as its own client (X-Forwarded-For), so none spends another's budget.
		logins++
		hdr := map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", logins)}
		st, _, raw := h.do(r, http.MethodPost, "/auth/login", "", map[string]any{"email": adminEmail, "password": adminPassword}, hdr)
		var p pair
		if st != http.StatusOK || json.Unmarshal([]byte(raw), &p) != nil || p.AccessToken == "" || p.RefreshToken == "" {
			h.t.Fatalf("login on %s: status %d: %s", r.Name, st, raw)
		}
		return p
	}
	admin := login(h, a)

	t.Run("rate_limit_shared", func(t *testing.T) {
		h := h.with(t)
		// One client behind the load balancer, whose X-Forwarded-For the replicas trust.
		hdr := map[string]string{"X-Forwarded-For": "198.51.100.7"}
		first := time.Now()
		for i := range 10 {
			r := reps[i%3]
			body := map[string]any{"email": fmt.Sprintf("nobody-%d@replicas.example", i), "password": "wrong-password"}
			if st, _, raw := h.do(r, http.MethodPost, "/auth/login", "", body, hdr); st != http.StatusUnauthorized {
				t.Fatalf("failed login %d on %s: status %d, want 401: %s", i+1, r.Name, st, raw)
			}
		}
		// GCRA refills one login every 6 min: the test is meaningful only if the ten were quicker.
		if d := time.Since(first); d > 5*time.Minute {
			t.Fatalf("10 logins took %v: too slow for a 10/hour budget to be exhausted", d)
		}
		for i, r := range []*replica{b, c, a} {
			body := map[string]any{"email": fmt.Sprintf("nobody-extra-%d@replicas.example", i), "password": "wrong-password"}
			st, hd, raw := h.do(r, http.MethodPost, "/auth/login", "", body, hdr)
			if st != http.StatusTooManyRequests || hd.Get("Retry-After") == "" {
				t.Fatalf("login %d on %s: status %d, Retry-After %q, want 429 with Retry-After: %s", 11+i, r.Name, st, hd.Get("Retry-After"), raw)
			}
		}
		// The budget is the client's, not the replicas': another address still logs in.
		other := map[string]string{"X-Forwarded-For": "198.51.100.8"}
		if st, _, raw := h.do(c, http.MethodPost, "/auth/login", "", map[string]any{"email": "nobody@replicas.example", "password": "x"}, other); st != http.StatusUnauthorized {
			t.Fatalf("login from another client on C: status %d, want 401: %s", st, raw)
		}
	})

	// Replicas cache live sessions and API keys and push revocations to each other; every check
	// below first warms the caches of the replicas that must then refuse, and runs a few rounds
	// so that a revocation racing its push shows up.
	const rounds = 3

	t.Run("refresh_reuse_across_replicas", func(t *testing.T) {
		h := h.with(t)
		for round := range rounds {
			p1 := login(h, a)
			var p2 pair
			h.must(a, http.MethodPost, "/auth/refresh", "", map[string]any{"refresh_token": p1.RefreshToken}, http.StatusOK, &p2)
			for _, r := range reps {
				if !h.verify(r, p2.AccessToken).Valid {
					t.Fatalf("round %d: the rotated access token is not valid on %s before the reuse", round, r.Name)
				}
			}
			// The spent refresh token, replayed on another replica: refused, and the session dies.
			if st, _, raw := h.do(b, http.MethodPost, "/auth/refresh", "", map[string]any{"refresh_token": p1.RefreshToken}, nil); st != http.StatusUnauthorized {
				t.Fatalf("round %d: spent refresh token on B: status %d, want 401: %s", round, st, raw)
			}
			for _, r := range []*replica{c, a, b} {
				if v := h.verify(r, p2.AccessToken); v.Valid {
					t.Fatalf("round %d: access token of the revoked session still valid on %s: %+v", round, r.Name, v)
				}
			}
			if st, _, raw := h.do(c, http.MethodPost, "/auth/refresh", "", map[string]any{"refresh_token": p2.RefreshToken}, nil); st != http.StatusUnauthorized {
				t.Fatalf("round %d: refresh token of the revoked session on C: status %d, want 401: %s", round, st, raw)
			}
		}
		// Other sessions of the same admin are untouched.
		for _, r := range reps {
			if !h.verify(r, admin.AccessToken).Valid {
				t.Fatalf("an unrelated session was revoked (seen on %s)", r.Name)
			}
		}
	})

	t.Run("api_key_revocation_across_replicas", func(t *testing.T) {
		h := h.with(t)
		for round := range rounds {
			var created struct {
				ID     int64  `json:"id"`
				APIKey string `json:"api_key"`
			}
			h.must(a, http.MethodPost, "/tokens/api-key", admin.AccessToken, map[string]any{"event_id": eventID, "name": fmt.Sprintf("gate scanner %d", round), "scopes": []string{"verify"}}, http.StatusOK, &created)
			if !strings.HasPrefix(created.APIKey, "ck_") || created.ID == 0 {
				t.Fatalf("round %d: created key: %+v", round, created)
			}
			for _, r := range []*replica{b, c, a} {
				if v := h.verify(r, created.APIKey); !v.Valid || fmt.Sprint(v.Claims["event_id"]) != fmt.Sprint(eventID) {
					t.Fatalf("round %d: new API key on %s: %+v, want valid for event %d", round, r.Name, v, eventID)
				}
			}
			h.must(a, http.MethodDelete, fmt.Sprintf("/tokens/api-key/%d", created.ID), admin.AccessToken, nil, http.StatusOK, nil)
			for _, r := range []*replica{c, b, a} {
				if v := h.verify(r, created.APIKey); v.Valid {
					t.Fatalf("round %d: revoked API key still valid on %s: %+v", round, r.Name, v)
				}
			}
		}
	})

	t.Run("token_signed_by_A_verifies_on_B", func(t *testing.T) {
		h := h.with(t)
		for _, r := range []*replica{b, c} {
			v := h.verify(r, admin.AccessToken)
			if !v.Valid || fmt.Sprint(v.Claims["sub"]) != fmt.Sprint(adminID) {
				t.Fatalf("/tokens/verify on %s: %+v, want valid with sub %d", r.Name, v, adminID)
			}
			var me struct {
				ID    int64  `json:"id"`
				Email string `json:"email"`
			}
			h.must(r, http.MethodGet, "/admin/me", admin.AccessToken, nil, http.StatusOK, &me)
			if me.ID != adminID || me.Email != adminEmail {
				t.Fatalf("/admin/me on %s: %+v", r.Name, me)
			}
		}
	})

	t.Run("sigterm_under_load", func(t *testing.T) {
		sigtermUnderLoad(t, c, admin.AccessToken, []*replica{a, b}, drainDelay)
	})
	t.Logf("whole test: %v", time.Since(began).Round(time.Millisecond))
}

// sigtermUnderLoad sends SIGTERM to r while four clients keep verifying a token on it, and checks
// that no request is lost: every response is a 200; /ready answers 503 while the replica serves on
// for server.drain_delay; the only errors, all once the drain delay is over, are connections
// refused by the closed listener or closed by the server before it read the request.
// One request is held in flight across the signal (its body still being sent) and must complete
// with 200 after the listener has closed. The other replicas must keep serving.
//
// Why "closed" errors are not lost requests: http.Server.Shutdown closes only idle connections and
// waits for active ones, so a kept-alive connection it closes had no request read from it (the
// client sees a reset, an EOF or "server closed idle connection", the unavoidable HTTP/1.1
// keep-alive race, which clients retry). A dropped active request would need Shutdown to give up,
// which fails the exit status check.
func sigtermUnderLoad(t *testing.T, r *replica, token string, others []*replica, drainDelay time.Duration) {
	const (
		workers = 4
		total   = 3 * time.Second
		before  = 1200 * time.Millisecond // load before the signal
	)
	tr := &http.Transport{DisableKeepAlives: false, MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	body, _ := json.Marshal(map[string]string{"token": token})

	var (
		signalled atomic.Int64 // UnixNano of the SIGTERM, 0 before
		mu        sync.Mutex
		ok        [2]int // 200s answered before and after the signal
		refused   int
		closed    int // reset / EOF / "server closed idle connection": never read by the server
		closedErr = map[string]int{}
		bad       []string
	)
	deadline := time.Now().Add(total)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodPost, r.URL+"/tokens/verify", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				// The outcome is known now: was the signal already sent, and how long ago?
				at := signalled.Load()
				after := at != 0
				if err != nil {
					kind := classify(err)
					mu.Lock()
					switch {
					case !after:
						bad = append(bad, fmt.Sprintf("worker %d: error before SIGTERM: %v", w, err))
					case time.Since(time.Unix(0, at)) < drainDelay/2:
						bad = append(bad, fmt.Sprintf("worker %d: error %v after SIGTERM, while the replica should still serve (server.drain_delay %v): %v",
							w, time.Since(time.Unix(0, at)).Round(time.Millisecond), drainDelay, err))
					case kind == "refused":
						refused++
					case kind == "closed":
						closed++
						closedErr[errText(err)]++
					default:
						bad = append(bad, fmt.Sprintf("worker %d: unexpected error after SIGTERM: %v", w, err))
					}
					mu.Unlock()
					time.Sleep(20 * time.Millisecond) // the listener is gone: do not spin
					continue
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				var v verifyResult
				mu.Lock()
				switch {
				case err != nil:
					bad = append(bad, fmt.Sprintf("worker %d: status %d, body cut: %v", w, resp.StatusCode, err))
				case resp.StatusCode != http.StatusOK:
					bad = append(bad, fmt.Sprintf("worker %d: status %d: %s", w, resp.StatusCode, raw))
				case json.Unmarshal(raw, &v) != nil || !v.Valid:
					bad = append(bad, fmt.Sprintf("worker %d: 200 but not a valid verification: %s", w, raw))
				case after:
					ok[1]++
				default:
					ok[0]++
				}
				mu.Unlock()
			}
		}()
	}

	// The held request: headers and half the body now, the rest once the listener has closed.
	pr, pw := io.Pipe()
	held := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, r.URL+"/tokens/verify", pr)
		req.Header.Set("Content-Type", "application/json")
		hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := hc.Do(req)
		if err != nil {
			held <- err
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		var v verifyResult
		switch {
		case err != nil:
			held <- fmt.Errorf("status %d, body cut: %w", resp.StatusCode, err)
		case resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &v) != nil || !v.Valid:
			held <- fmt.Errorf("status %d: %s", resp.StatusCode, raw)
		default:
			held <- nil
		}
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatalf("held request: %v", err)
	}

	time.Sleep(before) // steady load; the held request has long reached its handler
	sent := time.Now()
	signalled.Store(sent.UnixNano())
	if err := r.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	// Readiness turns false first, while the replica still serves (server.drain_delay).
	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	notReady := time.Duration(-1)
	for notReady < 0 && time.Since(sent) < 3*time.Second {
		resp, err := probe.Get(r.URL + "/ready")
		if err != nil {
			t.Errorf("GET /ready after SIGTERM: %v, before it ever answered 503", err)
			break
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusServiceUnavailable:
			notReady = time.Since(sent)
		case http.StatusOK: // the signal is not handled yet
			time.Sleep(10 * time.Millisecond)
		default:
			t.Fatalf("GET /ready after SIGTERM: status %d", resp.StatusCode)
		}
	}
	// Wait until the replica refuses new connections: it is draining, our request in flight.
	addr := strings.TrimPrefix(r.URL, "http://")
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Since(sent) > 5*time.Second {
			pw.Close()
			t.Fatalf("replica %s still accepts connections 5s after SIGTERM", r.Name)
		}
		time.Sleep(10 * time.Millisecond)
	}
	closedAfter := time.Since(sent)
	select {
	case <-r.Done:
		t.Errorf("replica %s exited with a request in flight (%v)", r.Name, r.Err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := pw.Write(body[half:]); err != nil {
		t.Errorf("held request: finishing the body: %v", err)
	}
	pw.Close()
	if err := <-held; err != nil {
		t.Errorf("request in flight at SIGTERM did not complete with 200 valid:true: %v", err)
	}

	var exitErr error
	select {
	case <-r.Done:
		exitErr = r.Err
	case <-time.After(15 * time.Second):
		t.Fatalf("replica %s still running 15s after SIGTERM", r.Name)
	}
	exitAfter := time.Since(sent)
	wg.Wait()

	t.Logf("replica %s: /ready 503 %v after SIGTERM, listener closed %v after, exit %v after (%v); 200s: %d before, %d after the signal; refused %d, closed unread %d",
		r.Name, notReady.Round(time.Millisecond), closedAfter.Round(time.Millisecond), exitAfter.Round(time.Millisecond), exitErr, ok[0], ok[1], refused, closed)
	for e, n := range closedErr {
		t.Logf("  %d× %s", n, e)
	}
	if exitErr != nil || r.Cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("replica %s: exit %v (code %d), want status 0", r.Name, exitErr, r.Cmd.ProcessState.ExitCode())
	}
	if closedAfter < drainDelay/2 {
		t.Errorf("listener closed %v after SIGTERM, before server.drain_delay %v", closedAfter, drainDelay)
	}
	if exitAfter > drainDelay+5*time.Second {
		t.Errorf("replica %s took %v to exit after SIGTERM, want a few seconds", r.Name, exitAfter)
	}
	for _, b := range bad {
		t.Error(b)
	}
	if ok[0] == 0 {
		t.Errorf("no request succeeded before SIGTERM: the load never ran")
	}
	if ok[1] == 0 {
		t.Errorf("no request answered after SIGTERM: the replica did not serve on while draining")
	}
	// The rest of the service is unaffected.
	h := &httpClient{t: t, c: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range others {
		if v := h.verify(o, token); !v.Valid {
			t.Errorf("replica %s after %s stopped: token invalid", o.Name, r.Name)
		}
	}
}

// classify sorts a client error of the SIGTERM subtest: "refused" (listener closed), "closed" (a
// kept-alive connection closed by the server before it accepted the request: reset, EOF or the
// transport's "server closed idle connection"), or "other".
func classify(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "server closed idle connection"):
		return "closed"
	}
	return "other"
}

// errText is err without the URL, which names a random port.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

type replica = testkit.Process

// startReplica starts `serve` on a free port and waits for /health. It reports failures with
// t.Errorf and returns nil, so several replicas can start concurrently.
func startReplica(t *testing.T, name, bin, dir string, env []string) *replica {
	r, err := testkit.Serve(t, "replica "+name, bin, dir, env, 30*time.Second)
	if err != nil {
		t.Errorf("%v", err)
		return nil
	}
	r.Name = name
	return r
}

type pair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

type verifyResult struct {
	Valid  bool           `json:"valid"`
	Claims map[string]any `json:"claims"`
}

type httpClient struct {
	t *testing.T
	c *http.Client
}

func (h *httpClient) with(t *testing.T) *httpClient { return &httpClient{t: t, c: h.c} }

// do sends a JSON request (body nil for none) with an optional bearer token.
func (h *httpClient) do(r *replica, method, path, bearer string, body any, hdr map[string]string) (int, http.Header, string) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s on %s: %v", method, path, r.Name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s on %s: read body: %v", method, path, r.Name, err)
	}
	return resp.StatusCode, resp.Header, string(raw)
}

// must sends the request, requires status want and decodes the body into out (unless nil).
func (h *httpClient) must(r *replica, method, path, bearer string, body any, want int, out any) {
	h.t.Helper()
	st, _, raw := h.do(r, method, path, bearer, body, nil)
	if st != want {
		h.t.Fatalf("%s %s on %s: status %d, want %d: %s", method, path, r.Name, st, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(raw), out); err != nil {
			h.t.Fatalf("%s %s on %s: body %s: %v", method, path, r.Name, raw, err)
		}
	}
}

func (h *httpClient) verify(r *replica, token string) verifyResult {
	h.t.Helper()
	var v verifyResult
	h.must(r, http.MethodPost, "/tokens/verify", "", map[string]string{"token": token}, http.StatusOK, &v)
	return v
}
