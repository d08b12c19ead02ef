package forwardauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// The real nginx (Debian's package, unpacked by scripts/tools.sh) runs the shipped
// deployments/gateways/nginx.conf in front of an upstream that echoes the headers it got.

func repoRoot(t *testing.T) string { return testkit.RepoRoot(t) }

// nginxPath installs nginx with `bash scripts/tools.sh nginx` and returns its binary.
func nginxPath(t *testing.T) string {
	return filepath.Join(testkit.Tool(t, "nginx", "dir"), "bin", "nginx")
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNginx runs the shipped config, its placeholders pointed at auth and app, as an
// unprivileged foreground process with its prefix, pid and logs in a temp dir. It returns
// nginx's base URL.
func startNginx(t *testing.T, auth, app string) string {
	t.Helper()
	bin := nginxPath(t)
	dir := t.TempDir()
	shipped, err := os.ReadFile(filepath.Join(repoRoot(t), "deployments", "gateways", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	gateway := strings.NewReplacer(
		"server cashless-auth:8000;", "server "+auth+";",
		"server app:8080;", "server "+app+";",
		"listen 80;", "listen "+listen+";",
	).Replace(string(shipped))
	for _, placeholder := range []string{"server cashless-auth:8000;", "server app:8080;", "listen 80;"} {
		if strings.Contains(gateway, placeholder) {
			t.Fatalf("deployments/gateways/nginx.conf: placeholder %q left after substitution", placeholder)
		}
	}
	main := fmt.Sprintf(`worker_processes 1;
events { worker_connections 128; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/gateway.conf;
}
`, dir)
	for name, body := range map[string]string{"gateway.conf": gateway, "nginx.conf": main} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	errorLog := filepath.Join(dir, "error.log")
	cmd := exec.Command(bin, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", errorLog,
		"-g", "daemon off; pid "+filepath.Join(dir, "nginx.pid")+";")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // SIGINT: fast shutdown
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(errorLog)
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", listen, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return "http://" + listen
		}
		select {
		case err := <-done:
			log, _ := os.ReadFile(errorLog)
			t.Fatalf("nginx exited at start: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s", listen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// echo is the upstream service: it answers the request headers it received as JSON.
func echo(t *testing.T) (addr string, hits func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

type answer struct {
	status   int
	header   http.Header // nginx's answer
	upstream http.Header // what the upstream received, on a 200
}

// through sends a request to nginx as the client at clientIP (the X-Forwarded-For a load
// balancer in front would have written).
func through(t *testing.T, base, method, path, clientIP string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", clientIP)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s through nginx: %v", method, path, err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a.upstream); err != nil {
			t.Fatalf("upstream answer: %v", err)
		}
		a.upstream.Del("Authorization") // kept out of failure messages
	}
	return a
}

// TestNginxAuthRequest: nginx admits, refuses, forgets a logged-out token at once, enforces a
// role, and never lets a client's own identity header reach the upstream; the limit is per
// original client, and its 429 becomes nginx's 500 (fail closed). Both backends.
func TestNginxAuthRequest(t *testing.T) {
	testkit.ForEachBackend(t, options(map[string]any{
		"ratelimit.trusted_proxies":           []string{"127.0.0.1/32"},
		"ratelimit.routes.forward_auth.check": "5/minute",
	}), func(t *testing.T, env *testkit.Env) {
		f := setup(t, env)
		app, hits := echo(t)
		base := startNginx(t, strings.TrimPrefix(env.URL, "http://"), app)
		bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

		// Allowed: the upstream gets the identity, and the original client in X-Forwarded-For.
		a := through(t, base, "POST", "/api/orders", "203.0.113.1", bearer(f.admin)...)
		if a.status != 200 || a.upstream.Get("X-Auth-Role") != "admin" || a.upstream.Get("X-Auth-Token-Type") != "access" || a.upstream.Get("X-Auth-Subject") == "" {
			t.Fatalf("admin through nginx: %d, upstream saw %v", a.status, a.upstream)
		}
		if xff := a.upstream.Get("X-Forwarded-For"); !strings.HasPrefix(xff, "203.0.113.1") {
			t.Errorf("upstream X-Forwarded-For %q", xff)
		}
		if a := through(t, base, "GET", "/admin/users", "203.0.113.1", bearer(f.admin)...); a.status != 200 {
			t.Fatalf("admin on /admin/: %d", a.status)
		}

		// Refused: no token, a garbage one; nginx passes 401 and WWW-Authenticate on.
		before := hits()
		for name, h := range map[string][]string{"no token": nil, "garbage": bearer("garbage.token.here")} {
			a := through(t, base, "GET", "/api/orders", "203.0.113.2", h...)
			if a.status != 401 || a.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s: %d, WWW-Authenticate %q", name, a.status, a.header.Get("WWW-Authenticate"))
			}
		}

		// Wrong role: an operator on the admins' location.
		if a := through(t, base, "GET", "/admin/users", "203.0.113.3", bearer(f.operator)...); a.status != 403 {
			t.Errorf("operator on /admin/: %d, want 403", a.status)
		}
		if hits() != before {
			t.Errorf("a refused request reached the upstream")
		}

		// Forged identity: an API key (no role) with the client's own X-Auth-* headers.
		a = through(t, base, "GET", "/api/orders", "203.0.113.4", append(bearer(f.apiKey),
			"X-Auth-Subject", "1", "X-Auth-Role", "admin", "X-Auth-MFA-Verified-At", "9999999999")...)
		if a.status != 200 {
			t.Fatalf("API key: %d", a.status)
		}
		if got := a.upstream.Get("X-Auth-Subject"); !strings.HasPrefix(got, "api_key:") {
			t.Errorf("upstream X-Auth-Subject %q: the client's forged value got through", got)
		}
		for _, h := range []string{"X-Auth-Role", "X-Auth-Mfa-Verified-At"} {
			if v, ok := a.upstream[h]; ok {
				t.Errorf("upstream received %s %q that only the client sent", h, v)
			}
		}

		// Revoked after logout: a fresh login, logged out through the contract's operation.
		access, refresh := env.Login(t, "admin@example.com", "admin-password-1", "admin")
		if a := through(t, base, "GET", "/api/orders", "203.0.113.5", bearer(access)...); a.status != 200 {
			t.Fatalf("fresh login: %d", a.status)
		}
		if r := env.Client.Do("POST", "/auth/logout", map[string]any{"refresh_token": refresh}, testkit.Bearer(access)...); r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if a := through(t, base, "GET", "/api/orders", "203.0.113.5", bearer(access)...); a.status != 401 {
			t.Fatalf("logged-out token through nginx: %d, want 401", a.status)
		}

		// The limit is the original client's: one client over 5/minute gets nginx's 500 (the
		// service's 429, failed closed); another client behind the same nginx is unaffected.
		var last answer
		for i := 0; i < 6; i++ {
			last = through(t, base, "GET", "/api/orders", "198.51.100.9", bearer(f.admin)...)
		}
		if last.status != 500 {
			t.Errorf("6th request of one client: %d, want nginx's 500 for the service's 429", last.status)
		}
		if a := through(t, base, "GET", "/api/orders", "198.51.100.10", bearer(f.admin)...); a.status != 200 {
			t.Errorf("another client: %d", a.status)
		}
	})
}
