package attacks_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/core/testkit/cutproxy"
)

// Outages are visible (issue 13, item 6): a Redis or database failure answers 503 (never 500),
// is logged once per failed request with the dependency named and no secret, and counts in
// cashless_auth_dependency_errors_total under its own dependency only; a client that gives up
// while the service waits on a dependency is no outage; the service recovers without a
// restart. The outages are real ones: the service reaches the shared PostgreSQL and Redis
// through a cutproxy that the test cuts (refused and reset connections, as when a server
// dies), so the servers themselves keep serving everyone else's tests.

const (
	redisErrors    = `cashless_auth_dependency_errors_total{dependency="redis"}`
	databaseErrors = `cashless_auth_dependency_errors_total{dependency="database"}`
	passwordErrors = `cashless_auth_logins_total{lane="password",outcome="error"}`
	// outagePassword is put in the database URL when it has none (the test server trusts
	// local connections, so it is never checked) to prove that no log line carries it.
	outagePassword = "pw-that-must-never-be-logged"
)

// outageEnv is the service on PostgreSQL and Redis, each reached through its own proxy.
type outageEnv struct {
	*testkit.Env
	redis, db  *cutproxy.Proxy
	logs       *observer.ObservedLogs
	dbPassword string
}

// startOutageEnv starts it, cfg over the attack suite's service.
func startOutageEnv(t *testing.T, cfg map[string]any) *outageEnv {
	t.Helper()
	b := postgres(t)
	ru, err := url.Parse(statetest.RedisURL())
	if err != nil || ru.Scheme != "redis" {
		t.Skipf("the outage tests proxy one Redis server (redis://host:port), not %s", state.RedactRedisURL(statetest.RedisURL()))
	}
	if ru.Port() == "" {
		ru.Host = net.JoinHostPort(ru.Hostname(), "6379")
	}
	rp := cutproxy.Start(t, ru.Host)
	ru.Host = rp.Addr()

	du, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	if du.Port() == "" {
		du.Host = net.JoinHostPort(du.Hostname(), "5432")
	}
	dp := cutproxy.Start(t, du.Host)
	du.Host = dp.Addr()
	password, ok := du.User.Password()
	if !ok {
		password = outagePassword
		du.User = url.UserPassword(du.User.Username(), password)
	}

	core, logs := observer.New(zapcore.DebugLevel)
	c := map[string]any{"redis.url": ru.String(), "database.url": du.String()}
	for k, v := range cfg {
		c[k] = v
	}
	opts := service(c)
	opts.Log = zap.New(core)
	env := testkit.Start(t, b, opts)
	return &outageEnv{Env: env, redis: rp, db: dp, logs: logs, dbPassword: password}
}

// failures returns the "dependency failure" lines logged since the last call, by dependency
// ("" for none), and fails the test if any line logged since then carries the database password.
func (e *outageEnv) failures(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, entry := range e.logs.TakeAll() {
		line := fmt.Sprint(entry.Message, entry.ContextMap())
		if strings.Contains(line, e.dbPassword) {
			t.Errorf("a log line carries the database password: %s", line)
		}
		if entry.Message == "dependency failure" {
			dep, _ := entry.ContextMap()["dependency"].(string)
			out[dep]++
		}
	}
	return out
}

// dependencyErrors reads both series of cashless_auth_dependency_errors_total, which must
// exist from the start, at 0 before any outage.
// wantCounted checks an outage of dep (redis or database) that failed `failed` requests, the
// counters having been redis0 and db0 before it: dep's series grew by at least that many (its
// background work may add more), the other's did not move, and each failed request was logged
// once, naming dep.
func (e *outageEnv) wantCounted(t *testing.T, dep string, redis0, db0 float64, failed int) {
	t.Helper()
	redis1, db1 := dependencyErrors(t, e.Env)
	down0, down1, up0, up1, up := redis0, redis1, db0, db1, "database"
	if dep == "database" {
		down0, down1, up0, up1, up = db0, db1, redis0, redis1, "redis"
	}
	if down1 < down0+float64(failed) {
		t.Errorf("%s errors went from %v to %v over %d requests failed by it", dep, down0, down1, failed)
	}
	if up1 != up0 {
		t.Errorf("%s errors went from %v to %v while only %s was down", up, up0, up1, dep)
	}
	if got := e.failures(t); got[dep] != failed || len(got) != 1 {
		t.Errorf("dependency failures logged: %v, want one per failed request (%d), each naming %s", got, failed, dep)
	}
}

func dependencyErrors(t *testing.T, env *testkit.Env) (redis, database float64) {
	t.Helper()
	m := metrics(t, env)
	for _, s := range []string{redisErrors, databaseErrors} {
		if _, ok := m[s]; !ok {
			t.Fatalf("/metrics has no %s", s)
		}
	}
	return m[redisErrors], m[databaseErrors]
}

// eventually retries try until it reports true, for at most d.
func eventually(t *testing.T, d time.Duration, what string, try func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if try() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

func loginBody(email, password string) map[string]any {
	return map[string]any{"email": email, "password": password, "role": "admin"}
}

// apiKey creates an API key for a new event and returns it, unverified (so uncached).
func apiKey(t *testing.T, env *testkit.Env, access string) string {
	t.Helper()
	ev := env.Event(t, "Outage festival")
	r := env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "gate", "scopes": []string{"tickets:read"}}, testkit.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("create API key: %d %s", r.Status, r.Body)
	}
	key, _ := r.JSON(t)["api_key"].(string)
	return key
}

// knownIP is the client IP of the verify requests: the batched limiter of /tokens/verify has
// seen it before the outage, so it admits the request locally and the verification itself,
// not the limiter, meets the outage.
var knownIP = []string{"X-Forwarded-For", "10.254.0.1"}

func verifyAs(env *testkit.Env, token string) *testkit.Response {
	return env.Client.Do("POST", "/tokens/verify", map[string]any{"token": token}, knownIP...)
}

// TestOutageRedis: Redis cut. A login (its per-IP limit and its lock live in Redis) and the
// verification of a session nobody verified yet (sessions live in Redis) get 503; an API key,
// which needs only the database, still verifies. The redis series grows, the database one
// does not; each 503 is logged once, naming redis. After the restore, logins and the session
// verify again, without a restart.
func TestOutageRedis(t *testing.T) {
	env := startOutageEnv(t, nil)
	env.User(t, "admin@example.com", "right-pass-123", "admin", nil, 0)
	env.User(t, "second@example.com", "right-pass-456", "admin", nil, 0)
	admin, _ := env.Login(t, "admin@example.com", "right-pass-123", "admin")
	key := apiKey(t, env.Env, admin)
	// Never presented before the outage, so its session is in no cache.
	access, _ := env.Login(t, "second@example.com", "right-pass-456", "admin")
	if r := verifyAs(env.Env, "not-a-token"); r.Status != 200 {
		t.Fatalf("verify before the outage: %d %s", r.Status, r.Body)
	}
	redis0, db0 := dependencyErrors(t, env.Env)
	if redis0 != 0 || db0 != 0 {
		t.Fatalf("dependency errors before any outage: redis %v, database %v", redis0, db0)
	}
	env.failures(t)

	env.redis.Cut()
	failed := 0
	if r := env.Client.Do("POST", "/auth/login", loginBody("admin@example.com", "right-pass-123"), fromNewIP()...); r.Status != 503 {
		t.Errorf("login with Redis down: %d %s, want 503", r.Status, r.Body)
	} else {
		failed++
	}
	if r := verifyAs(env.Env, access); r.Status != 503 {
		t.Errorf("verify of a session with Redis down: %d %s, want 503", r.Status, r.Body)
	} else {
		failed++
	}
	if r := verifyAs(env.Env, key); r.Status != 200 || r.JSON(t)["valid"] != true {
		t.Errorf("verify of an API key with Redis down: %d %s, want 200 valid (it needs only the database)", r.Status, r.Body)
	}
	env.wantCounted(t, "redis", redis0, db0, failed)

	env.redis.Restore()
	eventually(t, 15*time.Second, "login after Redis came back", func() bool {
		return env.Client.Do("POST", "/auth/login", loginBody("admin@example.com", "right-pass-123"), fromNewIP()...).Status == 200
	})
	if r := verifyAs(env.Env, access); r.Status != 200 || r.JSON(t)["valid"] != true {
		t.Errorf("verify of the session after Redis came back: %d %s, want 200 valid", r.Status, r.Body)
	}
	if _, db2 := dependencyErrors(t, env.Env); db2 != db0 {
		t.Errorf("database errors went from %v to %v around a Redis outage", db0, db2)
	}
}

// TestOutageDatabase: PostgreSQL cut. A login (accounts live in the database), the
// verification of an API key not yet cached and the verification of a session whose
// revocation time is not yet cached get 503, and so does every other route that needs the
// database; none answers 500. The database series grows, the redis one does not; each 503 is
// logged once, naming the database, and no line carries the database URL's password. After
// the restore, logins and keys work again, without a restart.
func TestOutageDatabase(t *testing.T) {
	env := startOutageEnv(t, nil)
	env.User(t, "admin@example.com", "right-pass-123", "admin", nil, 0)
	env.User(t, "second@example.com", "right-pass-456", "admin", nil, 0)
	access, refresh := env.Login(t, "admin@example.com", "right-pass-123", "admin")
	key := apiKey(t, env.Env, access)
	second, _ := env.Login(t, "second@example.com", "right-pass-456", "admin")
	if r := verifyAs(env.Env, "not-a-token"); r.Status != 200 {
		t.Fatalf("verify before the outage: %d %s", r.Status, r.Body)
	}
	// Past redis.cache_ttl, so the admin's revocation time is read again.
	time.Sleep(2500 * time.Millisecond)
	redis0, db0 := dependencyErrors(t, env.Env)
	if redis0 != 0 || db0 != 0 {
		t.Fatalf("dependency errors before any outage: redis %v, database %v", redis0, db0)
	}
	env.failures(t)

	env.db.Cut()
	failed := 0
	want503 := func(what string, r *testkit.Response) {
		t.Helper()
		if r.Status != 503 {
			t.Errorf("%s with the database down: %d %s, want 503", what, r.Status, r.Body)
			return
		}
		failed++
	}
	want503("login", env.Client.Do("POST", "/auth/login", loginBody("admin@example.com", "right-pass-123"), fromNewIP()...))
	want503("verify of an API key", verifyAs(env.Env, key))
	want503("verify of a session", verifyAs(env.Env, second))
	bearer := testkit.Bearer(access)
	for _, c := range []struct {
		method, path string
		body         map[string]any
		headers      []string
	}{
		{"POST", "/auth/refresh", map[string]any{"refresh_token": refresh}, nil},
		{"GET", "/admin/me", nil, bearer},
		{"POST", "/tokens/api-key", map[string]any{"event_id": 1, "name": "x", "scopes": []string{}}, bearer},
		{"DELETE", "/tokens/api-key/1", nil, bearer},
		{"POST", "/tokens/offline", map[string]any{"event_id": 1}, bearer},
		{"POST", "/auth/login/device", map[string]any{"dev_mac": "AA:BB:CC:DD:EE:FF", "event_id": 1}, nil},
		{"POST", "/devices/operator-token", map[string]any{"email": "admin@example.com", "password": "right-pass-123", "dev_type": "POS", "dev_mac": "AA:BB:CC:00:11:22"}, nil},
		{"POST", "/admin/password-reset/email-send", map[string]any{"email": "admin@example.com"}, nil},
		{"GET", "/ready", nil, nil},
	} {
		r := env.Client.Do(c.method, c.path, c.body, append(c.headers, fromNewIP()...)...)
		t.Logf("%s %s with the database down: %d %s", c.method, c.path, r.Status, r.Body)
		switch {
		case r.Status == 503:
			failed++
		case r.Status >= 500:
			t.Errorf("%s %s with the database down: %d %s, want 503", c.method, c.path, r.Status, r.Body)
		}
	}
	env.wantCounted(t, "database", redis0, db0, failed)

	env.db.Restore()
	eventually(t, 15*time.Second, "login after the database came back", func() bool {
		return env.Client.Do("POST", "/auth/login", loginBody("admin@example.com", "right-pass-123"), fromNewIP()...).Status == 200
	})
	if r := verifyAs(env.Env, key); r.Status != 200 || r.JSON(t)["valid"] != true {
		t.Errorf("verify of the API key after the database came back: %d %s, want 200 valid", r.Status, r.Body)
	}
	if redis2, _ := dependencyErrors(t, env.Env); redis2 != redis0 {
		t.Errorf("redis errors went from %v to %v around a database outage", redis0, redis2)
	}
}

// slowHash is the argon2id cost of TestOutageClientGone's service and of its slow account's
// hash (equal, so a login does not rehash): long enough that a client can give up mid-hash.
// (16 passes is the most a stored hash may ask for.)
var slowHash = passwords.Params{Memory: 65536, Time: 16, Threads: 1}

// TestOutageClientGone: a client that gives up while the service waits is no outage. A login
// is sent and its client cancels it mid-flight; the request fails inside, at a dependency
// call, because of the cancellation (the password lane counts a login error), yet neither
// series of cashless_auth_dependency_errors_total moves and nothing is logged as a dependency
// failure.
//
//   - database: the proxy holds PostgreSQL's replies and the client cancels while the
//     account's query is held; lib/pq interrupts the query (a "query canceled" error from
//     PostgreSQL, or the context's own error).
//   - redis: go-redis does not interrupt a call on the wire when its context ends (the reply
//     is read up to read_timeout whatever the caller does), so a cancellation reaches Redis
//     at the next call instead, refused before it is sent. The client cancels while the
//     service hashes a right password (slowHash); the session the login then opens in Redis
//     is refused.
func TestOutageClientGone(t *testing.T) {
	env := startOutageEnv(t, map[string]any{"password.argon2_memory": slowHash.Memory, "password.argon2_time": slowHash.Time})
	env.User(t, "admin@example.com", "right-pass-123", "admin", nil, 0)
	// abandon sends a login, cancels it once giveUp says so, and returns when the service has
	// finished with it: whether it failed inside, and whether its password was hashed.
	abandon := func(t *testing.T, body map[string]any, giveUp func(sent time.Time) bool) (failed, hashed bool) {
		t.Helper()
		m0, served0 := metrics(t, env.Env), served(t, env.Env, "password.login")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		sent := time.Now()
		go func() {
			a, err := post(ctx, t, env.Env, "/auth/login", body)
			if err == nil {
				err = fmt.Errorf("answered %+v", a)
			}
			done <- err
		}()
		eventually(t, 10*time.Second, "the moment to give up", func() bool { return giveUp(sent) })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("the abandoned login ended with %v, not by its cancellation", err)
		}
		eventually(t, 10*time.Second, "the service finishing the abandoned login", func() bool {
			return served(t, env.Env, "password.login") > served0
		})
		m1 := metrics(t, env.Env)
		// Recorded as nginx's 499, not as a 5xx the alerts would count.
		if d := byStatus(m1, "password.login", "499") - byStatus(m0, "password.login", "499"); d != 1 {
			t.Errorf("the abandoned login was recorded with status 499 %v times, want once", d)
		}
		if d := byStatus(m1, "password.login", "5") - byStatus(m0, "password.login", "5"); d != 0 {
			t.Errorf("the abandoned login was recorded as a 5xx (%v more)", d)
		}
		return m1[passwordErrors] > m0[passwordErrors], m1[hashesMetric] > m0[hashesMetric]
	}
	unchanged := func(t *testing.T, redis0, db0 float64) {
		t.Helper()
		if redis1, db1 := dependencyErrors(t, env.Env); redis1 != redis0 || db1 != db0 {
			t.Errorf("dependency errors after a client gave up: redis %v → %v, database %v → %v; want no change", redis0, redis1, db0, db1)
		}
		if got := env.failures(t); len(got) != 0 {
			t.Errorf("dependency failures logged for an abandoned request: %v", got)
		}
	}
	env.failures(t)

	t.Run("database", func(t *testing.T) {
		redis0, db0 := dependencyErrors(t, env.Env)
		// No background work queries the database: whatever the proxy holds is the login's.
		env.db.Delay(time.Second)
		defer env.db.Delay(0)
		body := loginBody("admin@example.com", "right-pass-123")
		if failed, _ := abandon(t, body, func(time.Time) bool { return env.db.Holding() > 0 }); !failed {
			t.Errorf("the login abandoned during its database call did not fail inside: the cancellation came too late to prove anything")
		}
		unchanged(t, redis0, db0)
	})
	t.Run("redis", func(t *testing.T) {
		hasher := passwords.New(slowHash, 1, passwords.Isolation{})
		defer hasher.Close()
		start := time.Now()
		hash, err := hasher.Hash(context.Background(), "right-pass-789")
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("one slow hash took %s here", took)
		if _, err := store.NewUsers(env.DB).Create(context.Background(), store.NewUser{Email: "slow@example.com", PasswordHash: hash, Role: "admin"}); err != nil {
			t.Fatal(err)
		}
		redis0, db0 := dependencyErrors(t, env.Env)
		body := loginBody("slow@example.com", "right-pass-789")
		// A quarter of a hash in: the account is loaded and its hash running. On a machine so loaded
		// that the cancellation lands while the login still queues for a hashing worker (no
		// hash) or after it opened its session (no failure), the attempt is repeated.
		for attempt := 1; ; attempt++ {
			failed, hashed := abandon(t, body, func(sent time.Time) bool { return time.Since(sent) > took/4 })
			if failed && hashed {
				break
			}
			if attempt == 5 {
				t.Fatalf("5 logins abandoned mid-hash: none failed after its hash (last: failed %v, hashed %v)", failed, hashed)
			}
		}
		unchanged(t, redis0, db0)
	})
}

// TestOutageEmbeddedDatabase: the embedded backend's database fails too, when another process
// holds SQLite's write lock past the busy timeout (a backup, a stuck CLI command). Creating an
// API key (a write) then gets 503, counted under database and logged once naming it; reads go
// on (WAL), and the write works again once the lock is released. Without Redis there is no
// redis series: nothing can fail there.
func TestOutageEmbeddedDatabase(t *testing.T) {
	var b storetest.Backend
	for _, be := range storetest.Backends(t) {
		if be.Name == storetest.Embedded {
			b = be
		}
	}
	if b.Name == "" {
		t.Skip("the embedded backend is not selected")
	}
	core, logs := observer.New(zapcore.DebugLevel)
	opts := service(nil)
	opts.Log = zap.New(core)
	env := testkit.Start(t, b, opts)
	env.User(t, "admin@example.com", "right-pass-123", "admin", nil, 0)
	access, _ := env.Login(t, "admin@example.com", "right-pass-123", "admin")
	ev := env.Event(t, "Embedded festival")
	m0 := metrics(t, env)
	if v, ok := m0[databaseErrors]; !ok || v != 0 {
		t.Fatalf("database errors before any outage: %v (present: %v), want a 0 series", v, ok)
	}
	if _, ok := m0[redisErrors]; ok {
		t.Errorf("/metrics has %s on the embedded backend, which has no Redis", redisErrors)
	}
	logs.TakeAll()

	other := storetest.Open(t, b) // another process's connection to the same file
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tx, err := other.X.BeginTxx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock now
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"event_id": ev, "name": "gate", "scopes": []string{}}
	r := env.Client.Do("POST", "/tokens/api-key", body, testkit.Bearer(access)...)
	if r.Status != 503 {
		t.Errorf("API key creation with the database locked: %d %s, want 503", r.Status, r.Body)
	}
	if ok, _ := env.Verify(t, access); !ok {
		t.Errorf("verify of a session with the database locked for writes: invalid, want valid (reads go on)")
	}
	if d := metrics(t, env)[databaseErrors] - m0[databaseErrors]; d != 1 {
		t.Errorf("database errors grew by %v over one write refused, want 1", d)
	}
	n := 0
	for _, e := range logs.TakeAll() {
		if e.Message == "dependency failure" {
			n++
			if dep := e.ContextMap()["dependency"]; dep != "database" {
				t.Errorf("dependency failure logged with dependency %v, want database", dep)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d dependency failures logged for one failed request, want 1", n)
	}

	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if r := env.Client.Do("POST", "/tokens/api-key", body, testkit.Bearer(access)...); r.Status != 200 {
		t.Errorf("API key creation once the lock is released: %d %s, want 200", r.Status, r.Body)
	}
}

// byStatus sums cashless_auth_http_requests_total of route over statuses starting with status.
func byStatus(m map[string]float64, route, status string) float64 {
	var n float64
	for k, v := range m {
		if strings.HasPrefix(k, "cashless_auth_http_requests_total{") && strings.Contains(k, `route="`+route+`"`) && strings.Contains(k, `status="`+status) {
			n += v
		}
	}
	return n
}
