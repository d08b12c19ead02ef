package system_test

// Local verification with a client no one here wrote: node jose (createRemoteJWKSet +
// jwtVerify, driven by scripts/jose-verify/verify.mjs) finds the keys from the discovery
// document alone and checks access tokens before and after a key rotation, as a service
// verifying tokens itself would (docs/operations.md, "Verifying tokens locally").

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

const (
	adminEmail    = "root@example.com"
	adminPassword = "bootstrap-pass-1"
)

// TestJoseVerifiesAcrossRotation follows docs/operations.md's rotation with three deployments
// behind one address (the issuer), each a roll-out: an RSA key signs; then a new Ed25519 key
// signs and the RSA key stays verify-only; then the RSA key is removed. node jose accepts every
// token whose key is published and refuses the one whose key no longer is.
func TestJoseVerifiesAcrossRotation(t *testing.T) {
	nodeDir := nodeIdpDir(t)
	front := newFront(t)
	issuer := front.url
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	check := func(stage string, tokens map[string]string, want map[string]string) {
		t.Helper()
		out := joseVerify(t, nodeDir, issuer, tokens)
		for name, w := range want {
			r := out.Results[name]
			got := r.Code
			if r.OK {
				got = "ok " + r.Kid + " " + r.Alg
			}
			if got != w {
				t.Errorf("%s, %s: node jose says %q (%s), want %q", stage, name, got, r.Error, w)
			}
		}
	}

	// 1. The RSA key signs.
	a := startBehind(t, front, keyring(t, map[string]crypto.Signer{"2026-05": rsaKey}, nil), "2026-05")
	doc := discoveryOf(t, issuer)
	if doc.Issuer != issuer || doc.JWKSURI != issuer+"/.well-known/jwks.json" {
		t.Fatalf("discovery document %+v, want issuer %s and the JWKS beside it", doc, issuer)
	}
	if !slices.Contains(doc.Algorithms, "RS256") || slices.Contains(doc.Algorithms, "HS256") {
		t.Errorf("algorithms %v: want RS256 (the signing key) and not HS256 (no longer signs)", doc.Algorithms)
	}
	before, _ := a.Login(t, adminEmail, adminPassword, "admin")
	check("before the rotation", map[string]string{"old": before}, map[string]string{"old": "ok 2026-05 RS256"})

	// 2. Rotated: the Ed25519 key signs, the RSA key only verifies.
	b := startBehind(t, front, keyring(t, map[string]crypto.Signer{"2026-11": edKey}, map[string]crypto.Signer{"2026-05": rsaKey}), "2026-11")
	if doc := discoveryOf(t, issuer); !slices.Contains(doc.Algorithms, "RS256") || !slices.Contains(doc.Algorithms, "EdDSA") {
		t.Errorf("algorithms after the rotation %v: want both keys' (RS256 tokens are still valid)", doc.Algorithms)
	}
	after, refresh := b.Login(t, adminEmail, adminPassword, "admin")
	check("after the rotation", map[string]string{"old": before, "new": after, "refresh": refresh},
		map[string]string{"old": "ok 2026-05 RS256", "new": "ok 2026-11 EdDSA", "refresh": "TYPE"})

	// 3. The retired key is removed (too early here: its token has not expired).
	startBehind(t, front, keyring(t, map[string]crypto.Signer{"2026-11": edKey}, nil), "2026-11")
	check("after the old key left the JWKS", map[string]string{"old": before, "new": after},
		map[string]string{"old": "ERR_JWKS_NO_MATCHING_KEY", "new": "ok 2026-11 EdDSA"})
}

// TestDiscoveryOnlyForURLIssuer: the document exists only when jwt.issuer is a URL a client
// can fetch it from; with today's default issuer the path is as unknown as any other.
func TestDiscoveryOnlyForURLIssuer(t *testing.T) {
	for _, tc := range []struct {
		issuer string
		status int
	}{{"", 404}, {"http://10.0.0.7:8080", 404}, {"https://auth.example", 200}} {
		name := tc.issuer
		if name == "" {
			name = "default cashless-auth"
		}
		t.Run(name, func(t *testing.T) {
			cfg := map[string]any{}
			if tc.issuer != "" {
				cfg["jwt.issuer"] = tc.issuer
			}
			env := testkit.Start(t, embedded(t), testkit.Options{Plugins: modules.All(), Config: cfg})
			r := env.Client.Do("GET", "/.well-known/openid-configuration", nil)
			if r.Status != tc.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.status)
			}
			if tc.status != 200 {
				return
			}
			var doc map[string]any
			if err := json.Unmarshal(r.Body, &doc); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"issuer": "https://auth.example", "jwks_uri": "https://auth.example/.well-known/jwks.json",
				// jwt.secret signs access tokens; the key derived from it signs offline ones.
				"id_token_signing_alg_values_supported": []any{"EdDSA", "HS256"}}
			if fmt.Sprint(doc) != fmt.Sprint(want) {
				t.Errorf("document %v, want exactly %v", doc, want)
			}
		})
	}
}

// front is the deployment's stable address (its load balancer): the issuer, whichever
// deployment answers behind it.
type front struct {
	url     string
	backend atomic.Pointer[url.URL]
}

func newFront(t *testing.T) *front {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &front{url: "http://" + ln.Addr().String()}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(f.backend.Load()) }}
	srv := &http.Server{Handler: proxy}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

// startBehind rolls out a deployment with the keyring dir, active kid signing, and points the
// front at it. Each has its own database and its bootstrap admin.
func startBehind(t *testing.T, f *front, dir, activeKID string) *testkit.Env {
	t.Helper()
	env := testkit.Start(t, embedded(t), testkit.Options{Plugins: modules.All(), Config: map[string]any{
		"jwt.issuer": f.url, "jwt.keys_dir": dir, "jwt.active_kid": activeKID,
		"bootstrap.admin_email": adminEmail, "bootstrap.admin_password": adminPassword,
	}})
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	f.backend.Store(u)
	return env
}

// embedded is a fresh embedded backend: the key path is the same on both.
func embedded(t *testing.T) storetest.Backend {
	dir := t.TempDir()
	return storetest.Backend{Name: storetest.Embedded, URL: "sqlite://" + filepath.Join(dir, store.EmbeddedFileName), DataDir: dir}
}

// keyring writes a jwt.keys_dir as the rotation in docs/operations.md has it: "<kid>.pem"
// private keys (PKCS#8) and "<kid>.pub.pem" verify-only public halves (PKIX).
func keyring(t *testing.T, private, verifyOnly map[string]crypto.Signer) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for kid, k := range private {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		write(kid+".pem", "PRIVATE KEY", der, err)
	}
	for kid, k := range verifyOnly {
		der, err := x509.MarshalPKIXPublicKey(k.Public())
		write(kid+".pub.pem", "PUBLIC KEY", der, err)
	}
	return dir
}

type discoveryDoc struct {
	Issuer     string   `json:"issuer"`
	JWKSURI    string   `json:"jwks_uri"`
	Algorithms []string `json:"id_token_signing_alg_values_supported"`
}

func discoveryOf(t *testing.T, issuer string) discoveryDoc {
	t.Helper()
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc discoveryDoc
	if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	return doc
}

type joseResult struct {
	OK    bool   `json:"ok"`
	Kid   string `json:"kid"`
	Alg   string `json:"alg"`
	Code  string `json:"code"`
	Error string `json:"error"`
}

// joseVerify has scripts/jose-verify/verify.mjs verify tokens as access tokens of issuer,
// pinning the audience and the algorithms this service signs with. Each call is a new process,
// so jose fetches the JWKS afresh, as a verifier whose cache has expired does.
func joseVerify(t *testing.T, nodeDir, issuer string, tokens map[string]string) (out struct {
	Results map[string]joseResult `json:"results"`
}) {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{"issuer": issuer, "audience": "cashless-platform",
		"algorithms": []string{"EdDSA", "RS256"}, "type": "access", "tokens": tokens})
	file := filepath.Join(t.TempDir(), "verify.json")
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(repoRoot(t), "scripts", "jose-verify", "verify.mjs"), file)
	cmd.Env = append(os.Environ(), "NODE_IDP_DIR="+nodeDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.mjs: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("node verify.mjs output %s: %v", stdout, err)
	}
	return out
}

// nodeIdpDir installs jose (scripts/tools.sh node-idp) and returns its install dir.
func nodeIdpDir(t *testing.T) string { return testkit.Tool(t, "node-idp", "node-idp-dir") }

func repoRoot(t *testing.T) string { return testkit.RepoRoot(t) }
