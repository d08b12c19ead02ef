package oidc_test

// A real OpenID Provider for the lane's tests: node oidc-provider run by
// scripts/oidc-provider/op.mjs, one process per startOP, driven over HTTP exactly as a user's
// browser and an app would drive it. Nothing here stubs the provider's answers: ID tokens come out
// of its authorization code flow, its discovery document and JWKS are its own.

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// opClient is a client registered at the provider. Code flow only, always with PKCE.
type opClient struct {
	ID string
	// Secret makes it a confidential client (client_secret_basic at the token endpoint); empty is
	// a public one (token_endpoint_auth_method none), as a mobile app is.
	Secret string
	// Alg signs its ID tokens (id_token_signed_response_alg): RS256 (default) or ES256.
	Alg string
}

// opOptions configures startOP; the zero value is one public client "app" signed with RS256 and
// the issuer http://127.0.0.1:PORT.
type opOptions struct {
	// IssuerPath suffixes the issuer, e.g. "/realms/test" as a Keycloak realm's.
	IssuerPath string
	Clients    []opClient
	// ExtraClaims names the claims beyond the standard email, phone and profile ones that
	// IDToken may be asked to put in a token.
	ExtraClaims []string
	// IDTokenTTL is the ID tokens' lifetime (default one hour).
	IDTokenTTL time.Duration
}

// opRedirectURI is every client's redirect URI: the flow stops at the redirect, nothing serves it.
const opRedirectURI = "https://app.example/cb"

// standardOPClaims are the claims op.mjs releases without ExtraClaims (besides sub).
var standardOPClaims = []string{
	"email", "email_verified", "phone_number", "phone_number_verified",
	"name", "given_name", "family_name", "preferred_username", "picture", "locale",
}

// op is a running (or stopped) provider. Its port, issuer and keys survive Stop/Start and
// RotateKeys; its in-memory state (sessions, codes, registered accounts) does not.
type op struct {
	t      *testing.T
	opts   opOptions
	dir    string
	port   int
	issuer string
	// keys are the published private keys, newest first: the first of an alg signs.
	keys []jose.JSONWebKey
	gen  int

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	stdin io.Closer
	logs  *opLogBuffer
	// Fetches counted by the processes already stopped.
	pastJWKS, pastDiscovery int
}

// startOP installs the node tools if needed and starts a provider on a free port; it stops at
// the test's cleanup. Several may run side by side (one process each, own port and issuer).
func startOP(t *testing.T, opts opOptions) *op {
	t.Helper()
	nodeIdpDir(t)
	if len(opts.Clients) == 0 {
		opts.Clients = []opClient{{ID: "app"}}
	}
	o := &op{t: t, opts: opts, dir: t.TempDir(), logs: &opLogBuffer{}}
	o.addKeys(t)
	t.Cleanup(func() {
		o.stop()
		if t.Failed() {
			t.Logf("OpenID Provider %s output:\n%s", o.issuer, o.logs.String())
		}
	})
	o.Start(t)
	return o
}

// Issuer is the provider's issuer (stable across Stop/Start and RotateKeys).
func (o *op) Issuer() string { return o.issuer }

// JWKSFetches counts the requests the provider has served at its jwks_uri since startOP, over
// all its processes. A request is counted when it arrives, so any fetch whose answer the client
// has seen is counted.
func (o *op) JWKSFetches() int { j, _ := o.fetches(); return j }

// DiscoveryFetches counts, as JWKSFetches does, the requests for its discovery document.
func (o *op) DiscoveryFetches() int { _, d := o.fetches(); return d }

// SigningKID is the kid that signs the provider's new tokens of alg (RS256 or ES256).
func (o *op) SigningKID(alg string) string {
	for _, k := range o.keys {
		if k.Algorithm == alg {
			return k.KeyID
		}
	}
	return ""
}

// RotateKeys rotates the signing keys as providers do: a new RS256 and a new ES256 key are
// published first, so they sign every token from now on, and the old keys stay published, so
// tokens already issued still verify. oidc-provider reads its keys at start, so this restarts
// the provider on the same port and issuer: sessions and codes of the old process are lost, a
// client holding the old JWKS sees an unknown kid on the next token. RetireOldKeys then
// unpublishes the old keys.
func (o *op) RotateKeys(t *testing.T) {
	t.Helper()
	o.addKeys(t)
	o.restart(t)
}

// RetireOldKeys restarts the provider publishing only the newest key of each alg.
func (o *op) RetireOldKeys(t *testing.T) {
	t.Helper()
	var kept []jose.JSONWebKey
	seen := map[string]bool{}
	for _, k := range o.keys {
		if !seen[k.Algorithm] {
			seen[k.Algorithm] = true
			kept = append(kept, k)
		}
	}
	o.keys = kept
	o.restart(t)
}

// SignJWT signs claims with the provider's newest key of alg, its kid in the header as the
// provider puts it; header adds or overrides header parameters (a forged "kid"). For the tokens
// the provider's flow never issues: expired, not yet valid, for another audience, another issuer.
func (o *op) SignJWT(t *testing.T, alg string, header, claims map[string]any) string {
	t.Helper()
	kid := o.SigningKID(alg)
	if kid == "" {
		t.Fatalf("OpenID Provider %s has no %s key", o.issuer, alg)
	}
	key := o.keys[slices.IndexFunc(o.keys, func(k jose.JSONWebKey) bool { return k.KeyID == kid })]
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	for k, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func (o *op) restart(t *testing.T) {
	t.Helper()
	o.Stop(t)
	o.Start(t)
}

// Stop kills the provider's process: its port refuses connections until Start.
func (o *op) Stop(t *testing.T) {
	t.Helper()
	o.stop()
}

// Start starts the provider (again): same port, issuer and keys as before Stop.
func (o *op) Start(t *testing.T) {
	t.Helper()
	o.mu.Lock()
	running := o.cmd != nil
	o.mu.Unlock()
	if running {
		t.Fatalf("OpenID Provider %s: Start while running", o.issuer)
	}
	cfg := o.writeConfig(t)
	cmd := exec.Command("node", filepath.Join(opRepoRoot(t), "scripts", "oidc-provider", "op.mjs"), cfg)
	cmd.Env = append(os.Environ(), "NODE_IDP_DIR="+nodeIdpDir(t))
	cmd.Stderr = o.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Held open while the provider runs: it exits when the pipe closes, even if this test
	// binary is killed without its cleanups.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the OpenID Provider: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			ready <- sc.Text()
		}
		for sc.Scan() {
			fmt.Fprintln(o.logs, sc.Text())
		}
	}()
	var line string
	select {
	case line = <-ready:
	case <-done:
		t.Fatalf("the OpenID Provider exited before it was ready:\n%s", o.logs.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the OpenID Provider was not ready after 30s:\n%s", o.logs.String())
	}
	var r struct {
		Ready  bool   `json:"ready"`
		Issuer string `json:"issuer"`
		Port   int    `json:"port"`
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil || !r.Ready {
		_ = cmd.Process.Kill()
		t.Fatalf("the OpenID Provider's first line is not its ready line: %q (%v)", line, err)
	}
	o.mu.Lock()
	o.cmd, o.done, o.stdin, o.port, o.issuer = cmd, done, stdin, r.Port, r.Issuer
	o.mu.Unlock()
}

func (o *op) stop() {
	o.mu.Lock()
	cmd, done, stdin := o.cmd, o.done, o.stdin
	o.mu.Unlock()
	if cmd == nil {
		return
	}
	defer stdin.Close()
	// The counts of this process, before it takes them with it.
	j, d, err := o.liveFetches()
	if err != nil {
		o.t.Errorf("OpenID Provider %s: reading its fetch counts before stopping: %v", o.issuer, err)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	o.mu.Lock()
	o.cmd, o.done, o.stdin = nil, nil, nil
	o.pastJWKS += j
	o.pastDiscovery += d
	o.mu.Unlock()
}

func (o *op) fetches() (jwks, discovery int) {
	o.mu.Lock()
	running := o.cmd != nil
	jwks, discovery = o.pastJWKS, o.pastDiscovery
	o.mu.Unlock()
	if !running {
		return jwks, discovery
	}
	j, d, err := o.liveFetches()
	if err != nil {
		o.t.Errorf("OpenID Provider %s: reading its fetch counts: %v", o.issuer, err)
	}
	return jwks + j, discovery + d
}

func (o *op) liveFetches() (jwks, discovery int, err error) {
	var s struct{ JWKS, Discovery int }
	err = o.getJSON(fmt.Sprintf("http://127.0.0.1:%d/__stats", o.port), &s)
	return s.JWKS, s.Discovery, err
}

func (o *op) getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// addKeys generates a new RS256 and a new ES256 key and publishes them first.
func (o *op) addKeys(t *testing.T) {
	t.Helper()
	o.gen++
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fresh := []jose.JSONWebKey{
		{Key: rsaKey, KeyID: fmt.Sprintf("rs256-%d-%s", o.gen, opRandom(t, 4)), Algorithm: "RS256", Use: "sig"},
		{Key: ecKey, KeyID: fmt.Sprintf("es256-%d-%s", o.gen, opRandom(t, 4)), Algorithm: "ES256", Use: "sig"},
	}
	o.keys = append(fresh, o.keys...)
}

// writeConfig writes op.mjs's config and private JWKS for the next Start.
func (o *op) writeConfig(t *testing.T) string {
	t.Helper()
	jwksFile := filepath.Join(o.dir, "jwks.json")
	opWriteJSON(t, jwksFile, jose.JSONWebKeySet{Keys: o.keys})
	clients := make([]map[string]any, 0, len(o.opts.Clients))
	for _, c := range o.opts.Clients {
		m := map[string]any{
			"client_id":                    c.ID,
			"redirect_uris":                []string{opRedirectURI},
			"token_endpoint_auth_method":   "none",
			"id_token_signed_response_alg": cmp.Or(c.Alg, "RS256"),
		}
		if c.Secret != "" {
			m["client_secret"] = c.Secret
			m["token_endpoint_auth_method"] = "client_secret_basic"
		}
		clients = append(clients, m)
	}
	cfg := map[string]any{
		"port":            o.port,
		"issuer_path":     o.opts.IssuerPath,
		"jwks_file":       jwksFile,
		"clients":         clients,
		"extra_claims":    o.opts.ExtraClaims,
		"id_token_ttl":    int(o.opts.IDTokenTTL / time.Second),
		"exit_with_stdin": true,
	}
	file := filepath.Join(o.dir, "op.json")
	opWriteJSON(t, file, cfg)
	return file
}

// IDToken logs subject in at the provider and returns the ID token the client clientID gets,
// through the real authorization code flow: GET /auth (nonce, PKCE S256) with a fresh cookie
// jar, the dev interactions' login form (any login name is an account, the subject) and consent
// form, then the code exchange at the token endpoint. claims become the account's claims (any
// JSON values: "email_verified": "true" as Apple sends it); an empty nonce sends none.
func (o *op) IDToken(t *testing.T, clientID, subject, nonce string, claims map[string]any) string {
	t.Helper()
	client := o.client(t, clientID)
	for name := range claims {
		if !slices.Contains(standardOPClaims, name) && !slices.Contains(o.opts.ExtraClaims, name) {
			t.Fatalf("OpenID Provider: claim %q is not released: name it in opOptions.ExtraClaims", name)
		}
	}
	o.registerAccount(t, subject, claims)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	verifier := opRandom(t, 32)
	challenge := sha256.Sum256([]byte(verifier))
	scope := "openid email phone profile"
	if len(o.opts.ExtraClaims) > 0 {
		scope += " extra"
	}
	q := url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"scope":                 {scope},
		"redirect_uri":          {opRedirectURI},
		"state":                 {opRandom(t, 8)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	if nonce != "" {
		q.Set("nonce", nonce)
	}
	code := o.authorize(t, browser, o.issuer+"/auth?"+q.Encode(), subject, q.Get("state"))

	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {opRedirectURI},
		"code_verifier": {verifier},
	}
	if client.Secret == "" {
		form.Set("client_id", clientID)
	}
	req, err := http.NewRequest("POST", o.issuer+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client.Secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(client.Secret))
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatalf("OpenID Provider token endpoint: %v", err)
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.IDToken == "" {
		t.Fatalf("OpenID Provider token endpoint: %d %s", resp.StatusCode, body)
	}
	return tok.IDToken
}

var (
	opFormAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	opFormPrompt = regexp.MustCompile(`name="prompt" value="([a-z]+)"`)
)

// opMaxFlowSteps bounds the redirects and forms of one login (it takes about six).
const opMaxFlowSteps = 12

// authorize follows the authorization request through the interactions to the redirect back to
// the client, and returns its code.
func (o *op) authorize(t *testing.T, browser *http.Client, start, subject, state string) string {
	t.Helper()
	req, err := http.NewRequest("GET", start, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range opMaxFlowSteps {
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("OpenID Provider %s %s: %v", req.Method, req.URL, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			next, err := req.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(next.String(), opRedirectURI) {
				return opAuthorizationCode(t, next, state)
			}
			req, _ = http.NewRequest("GET", next.String(), nil)
		case resp.StatusCode == 200:
			req = opInteractionSubmit(t, req.URL, body, subject)
		default:
			t.Fatalf("OpenID Provider %s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
		}
	}
	t.Fatalf("OpenID Provider: no code after %d steps of the authorization flow", opMaxFlowSteps)
	return ""
}

// opInteractionSubmit answers a dev interaction page: the login form with subject, or the
// consent form.
func opInteractionSubmit(t *testing.T, page *url.URL, body []byte, subject string) *http.Request {
	t.Helper()
	action, prompt := opFormAction.FindSubmatch(body), opFormPrompt.FindSubmatch(body)
	if action == nil || prompt == nil {
		t.Fatalf("OpenID Provider %s: not an interaction form:\n%s", page, body)
	}
	target, err := page.Parse(html.UnescapeString(string(action[1])))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"prompt": {string(prompt[1])}}
	if string(prompt[1]) == "login" {
		form.Set("login", subject)
		form.Set("password", "any")
	}
	req, err := http.NewRequest("POST", target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func opAuthorizationCode(t *testing.T, redirect *url.URL, state string) string {
	t.Helper()
	q := redirect.Query()
	if q.Get("error") != "" {
		t.Fatalf("OpenID Provider refused the authorization: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("OpenID Provider redirect without the code or with another state: %s", redirect)
	}
	return q.Get("code")
}

func (o *op) client(t *testing.T, id string) opClient {
	t.Helper()
	for _, c := range o.opts.Clients {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("OpenID Provider %s has no client %q", o.issuer, id)
	return opClient{}
}

func (o *op) registerAccount(t *testing.T, sub string, claims map[string]any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"sub": sub, "claims": claims})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/__accounts", o.port), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("OpenID Provider %s: registering account %q: %v", o.issuer, sub, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("OpenID Provider %s: registering account %q: %d %s", o.issuer, sub, resp.StatusCode, body)
	}
}

// ---- installation and small helpers ----------------------------------------------------------

// nodeIdpDir installs oidc-provider (scripts/tools.sh node-idp) and returns its install dir.
func nodeIdpDir(t *testing.T) string { return testkit.Tool(t, "node-idp", "node-idp-dir") }

// opRepoRoot is the repository's root.
func opRepoRoot(t *testing.T) string { return testkit.RepoRoot(t) }

func opWriteJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func opRandom(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// opLogBuffer collects the provider's output from its pipes' goroutines.
type opLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *opLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *opLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ---- the provider itself, checked without the lane -----------------------------------------

// TestOPIssuesVerifiableIDTokens checks the provider with a standard relying-party library
// (coreos/go-oidc), so that the lane's tests stand on a provider known to be right: its tokens
// verify against its own discovery and JWKS (signature, iss, aud, nonce, sub, claims) for both
// algorithms and client kinds, survive a key rotation, and it goes down and up on demand.
func TestOPIssuesVerifiableIDTokens(t *testing.T) {
	p := startOP(t, opOptions{
		IssuerPath: "/realms/test",
		Clients:    []opClient{{ID: "app"}, {ID: "web", Secret: "web-secret-web-secret-web-secret", Alg: "ES256"}},
	})
	ctx := t.Context()
	if !strings.HasSuffix(p.Issuer(), "/realms/test") {
		t.Fatalf("issuer %s has no realm path", p.Issuer())
	}
	provider, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, clientID, raw, sub, nonce, wantAlg, wantKid string) *oidc.IDToken {
		t.Helper()
		tok, err := provider.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"RS256", "ES256"}}).Verify(ctx, raw)
		if err != nil {
			t.Fatalf("%s's token does not verify: %v", clientID, err)
		}
		if tok.Issuer != p.Issuer() || tok.Subject != sub || tok.Nonce != nonce || !slices.Equal(tok.Audience, []string{clientID}) {
			t.Fatalf("token iss %s sub %s nonce %q aud %v", tok.Issuer, tok.Subject, tok.Nonce, tok.Audience)
		}
		if alg, kid := opTokenHeader(t, raw); alg != wantAlg || kid != wantKid {
			t.Fatalf("token signed with %s %s, want %s %s", alg, kid, wantAlg, wantKid)
		}
		return tok
	}

	appToken := p.IDToken(t, "app", "alice", "n-1", map[string]any{"email": "alice@example.com", "email_verified": "true", "phone_number": "+33612345678", "phone_number_verified": true})
	tok := verify(t, "app", appToken, "alice", "n-1", "RS256", p.SigningKID("RS256"))
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims["email"] != "alice@example.com" || claims["email_verified"] != "true" || claims["phone_number"] != "+33612345678" || claims["phone_number_verified"] != true {
		t.Fatalf("claims not carried as registered: %v", claims)
	}
	webToken := p.IDToken(t, "web", "bob", "n-2", nil)
	verify(t, "web", webToken, "bob", "n-2", "ES256", p.SigningKID("ES256"))
	if p.IDToken(t, "app", "carol", "", nil) == "" {
		t.Fatal("no token without a nonce")
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "web"}).Verify(ctx, appToken); err == nil {
		t.Fatal("app's token verified for web")
	}
	if p.DiscoveryFetches() < 1 || p.JWKSFetches() < 1 {
		t.Fatalf("fetches not counted: discovery %d jwks %d", p.DiscoveryFetches(), p.JWKSFetches())
	}

	oldKid := p.SigningKID("RS256")
	jwksBefore := p.JWKSFetches()
	p.RotateKeys(t)
	if p.SigningKID("RS256") == oldKid {
		t.Fatal("RotateKeys kept the signing kid")
	}
	rotated := p.IDToken(t, "app", "alice", "n-3", nil)
	// The verifier's cached key set lacks the new kid: it fetches the JWKS again.
	verify(t, "app", rotated, "alice", "n-3", "RS256", p.SigningKID("RS256"))
	if p.JWKSFetches() <= jwksBefore {
		t.Fatalf("JWKS fetches %d after a rotation, %d before: the new kid was not fetched", p.JWKSFetches(), jwksBefore)
	}
	fresh, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, appToken); err != nil {
		t.Fatalf("a token of the old key no longer verifies after the rotation: %v", err)
	}

	p.Stop(t)
	if _, err := oidc.NewProvider(ctx, p.Issuer()); err == nil {
		t.Fatal("discovery answered while the provider was stopped")
	}
	stopped := p.DiscoveryFetches()
	p.Start(t)
	if _, err := oidc.NewProvider(ctx, p.Issuer()); err != nil {
		t.Fatalf("discovery after Start: %v", err)
	}
	if p.DiscoveryFetches() != stopped+1 {
		t.Fatalf("discovery fetches %d after one more, %d before", p.DiscoveryFetches(), stopped)
	}

	p.RetireOldKeys(t)
	retired, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := retired.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, appToken); err == nil {
		t.Fatal("a token of a retired key still verifies")
	}
	verify(t, "app", p.IDToken(t, "app", "alice", "n-4", nil), "alice", "n-4", "RS256", p.SigningKID("RS256"))
}

// TestOPTwoProvidersSideBySide: two processes, two issuers; each one's tokens verify only
// against its own keys and issuer, and SignJWT's tokens verify as the provider's own.
func TestOPTwoProvidersSideBySide(t *testing.T) {
	a, b := startOP(t, opOptions{}), startOP(t, opOptions{IssuerPath: "/realms/b", ExtraClaims: []string{"groups"}})
	if a.Issuer() == b.Issuer() {
		t.Fatalf("same issuer %s", a.Issuer())
	}
	ctx := t.Context()
	pa, err := oidc.NewProvider(ctx, a.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	pb, err := oidc.NewProvider(ctx, b.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	ta := a.IDToken(t, "app", "same-sub", "n", nil)
	tb := b.IDToken(t, "app", "same-sub", "n", map[string]any{"groups": []any{"admins"}})
	if _, err := pa.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, ta); err != nil {
		t.Fatal(err)
	}
	tok, err := pb.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, tb)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Groups []string }
	if err := tok.Claims(&claims); err != nil || !slices.Equal(claims.Groups, []string{"admins"}) {
		t.Fatalf("extra claim: %v %v", claims, err)
	}
	if _, err := pb.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, ta); err == nil {
		t.Fatal("a's token verified at b")
	}

	now := time.Now().Unix()
	signed := a.SignJWT(t, "ES256", nil, map[string]any{"iss": a.Issuer(), "aud": "app", "sub": "x", "iat": now, "exp": now + 60})
	if _, err := pa.Verifier(&oidc.Config{ClientID: "app", SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, signed); err != nil {
		t.Fatalf("SignJWT's token: %v", err)
	}
	forged := a.SignJWT(t, "RS256", map[string]any{"kid": "forged"}, map[string]any{"iss": a.Issuer(), "aud": "app", "sub": "x", "iat": now, "exp": now + 60})
	if _, kid := opTokenHeader(t, forged); kid != "forged" {
		t.Fatalf("forged kid not in the header: %s", kid)
	}
	if _, err := pa.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, forged); err == nil {
		t.Fatal("a token with a forged kid verified")
	}
}

func opTokenHeader(t *testing.T, raw string) (alg, kid string) {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	return h.Algorithm, h.KeyID
}
