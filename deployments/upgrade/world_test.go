package upgrade

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

const resetLink = "https://admin.upgrade.test/reset?token="

// api is a contract-checking client of one running process; every request comes from its own
// client address (X-Forwarded-For, trusted from 127.0.0.1), so no per-IP limit plays a part.
type api struct {
	t *testing.T
	c *testkit.Client
}

var clientIP atomic.Uint32

func (a *api) do(method, path string, body any, bearer string) *testkit.Response {
	a.t.Helper()
	n := clientIP.Add(1)
	hdr := []string{"X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", n/250%256, n%250+1)}
	if bearer != "" {
		hdr = append(hdr, testkit.Bearer(bearer)...)
	}
	return a.c.Do(method, path, body, hdr...)
}

// must sends the request and requires status want; it returns the decoded object.
func (a *api) must(want int, method, path string, body any, bearer string) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body, bearer)
	if r.Status != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r.JSON(a.t)
}

// verify returns valid and the claims of POST /tokens/verify.
func (a *api) verify(token string) (bool, map[string]any) {
	a.t.Helper()
	m := a.must(200, "POST", "/tokens/verify", map[string]any{"token": token}, "")
	claims, _ := m["claims"].(map[string]any)
	return m["valid"] == true, claims
}

// person is a staff account.
type person struct {
	key, email, password, role string
	id                         int64
	eventID                    *int64 // binding
	session                    pair   // an outstanding session, not used since the release issued it
}

type pair struct{ access, refresh string }

func pairOf(m map[string]any) pair {
	a, _ := m["access_token"].(string)
	r, _ := m["refresh_token"].(string)
	return pair{a, r}
}

type device struct {
	id       int64
	mac      string
	operator bool
	archived bool
}

// offline is an offline token with the claims it was issued with.
type offline struct {
	what     string
	token    string
	eventID  int64
	deviceID int64 // 0: none
}

// world is what the release's binary provisioned, and what the gate expects of it.
type world struct {
	d     *deployment
	peers *peers
	lanes map[string]bool // enabled paths

	event   int64
	staff   map[string]*person
	devices map[string]*device

	mfaSecret string
	mfaSteps  map[int64]bool // TOTP time steps whose code was accepted once
	mfaPair   pair           // admin_mfa's MFA-fresh session
	mfaAt     float64        // its mfa_verified_at

	phone, firebaseEmail, firebasePassword string
	phoneConsumer, firebaseConsumer        string // sub of the consumer

	apiKey       string
	apiKeyScopes []string
	ost          string // operator_bound's legacy session token
	resetToken   string // admin's pending reset token
	offline      []offline
	// adminOffline is an offline token the release issued to the admin whose password the
	// upgrade resets; adminReset says the reset happened.
	adminOffline string
	adminReset   bool
	current      bool // the phase runs the current binary (else the release's)
	// leaver is an admin the current binary disables (`users disable`) after its first start;
	// from then on every binary, the release's on rollback included, must refuse them.
	leaver   *person
	disabled bool
}

func (w *world) on(path string) bool { return w.lanes[path] }

// phase runs check against bin serving the deployment, then stops it. The current binary
// (strict) must exit 0 on SIGTERM and log nothing at error level; the release's errors are
// reported, not failed on: its bugs are history (v0.1.0 exits 1 at SIGTERM when stderr is a
// pipe, docs/upgrading.md).
func (w *world) phase(t *testing.T, what, bin string, strict bool, check func(*testing.T, *api)) {
	t.Helper()
	w.lanes = w.d.enabledPaths(t, bin)
	w.current = strict
	p := serve(t, what, bin, w.d.work, w.d.env)
	check(t, &api{t: t, c: testkit.NewClient(t, p.URL)})
	var warnings, errs []string
	lines, exitErr := stop(p)
	if exitErr != nil {
		errs = append(errs, fmt.Sprintf("exited with %v on SIGTERM", exitErr))
	}
	for _, l := range lines {
		switch l.Level {
		case "warn":
			warnings = append(warnings, l.Msg)
		case "error", "dpanic", "panic", "fatal", "unparsed":
			errs = append(errs, fmt.Sprintf("logged at %s: %.400s", l.Level, l.Raw))
		}
	}
	switch {
	case len(errs) > 0 && strict:
		t.Errorf("%s:\n  %s", what, strings.Join(errs, "\n  "))
	case len(errs) > 0:
		t.Logf("%s (not failed on, the release is history): %d error(s), the first: %s", what, len(errs), errs[0])
	}
	if len(warnings) > 0 {
		t.Logf("%s warned: %s", what, strings.Join(warnings, " | "))
	}
}

// provision creates, with the release's binary, everyone and everything the gate then expects
// the current binary to serve: through the CLI, staff (admins with and without MFA, operators
// bound to the event and not, a network manager), the event and devices (with and without an
// operator, one archived); through HTTP, MFA, an API key, the operator's ost_ token, a phone and
// a Firebase consumer, offline tokens, outstanding sessions and a pending reset token.
func (w *world) provision(t *testing.T, bin string) {
	cli := func(stdin string, args ...string) int64 {
		t.Helper()
		return printedID(t, run(t, bin, w.d.work, w.d.env, stdin, args...))
	}
	w.event = cli("", "events", "create", "--name", "Upgrade Fest "+randomHex(3))
	ev := w.event
	w.staff = map[string]*person{}
	for _, p := range []*person{
		{key: "admin_mfa", role: "admin"},
		{key: "admin", role: "admin"},
		{key: "operator_bound", role: "operator", eventID: &ev},
		{key: "operator_free", role: "operator"},
		{key: "network_manager", role: "network_manager", eventID: &ev},
	} {
		p.email = strings.ReplaceAll(p.key, "_", "-") + "-" + randomHex(4) + "@upgrade.cashless.test"
		p.password = "pw-" + randomHex(8)
		args := []string{"users", "create", "--email", p.email, "--role", p.role, "--password-stdin"}
		if p.eventID != nil {
			args = append(args, "--event-id", strconv.FormatInt(*p.eventID, 10))
		}
		p.id = cli(p.password+"\n", args...)
		w.staff[p.key] = p
		t.Cleanup(func() { w.peers.mail.Forget(p.email) })
	}
	w.leaver = &person{key: "leaver", role: "admin", email: "leaver-" + randomHex(4) + "@upgrade.cashless.test", password: "pw-" + randomHex(8)}
	w.leaver.id = cli(w.leaver.password+"\n", "users", "create", "--email", w.leaver.email, "--role", "admin", "--password-stdin")
	op := strconv.FormatInt(w.staff["operator_bound"].id, 10)
	evs := strconv.FormatInt(ev, 10)
	w.devices = map[string]*device{
		"with_operator":    {mac: randomMAC(), operator: true},
		"without_operator": {mac: randomMAC()},
		"archived":         {mac: randomMAC(), operator: true, archived: true},
	}
	for name, dv := range w.devices {
		args := []string{"devices", "create", "--event-id", evs, "--mac", dv.mac, "--name", name}
		if dv.operator {
			args = append(args, "--operator-id", op)
		}
		dv.id = cli("", args...)
		if dv.archived {
			cli("", "devices", "archive", "--id", strconv.FormatInt(dv.id, 10))
		}
	}

	w.mfaSteps = map[int64]bool{}
	w.phase(t, "release binary, provisioning", bin, false, func(t *testing.T, a *api) {
		if w.on("/auth/login") {
			for _, p := range w.staff {
				p.session = w.login(t, a, p)
			}
		}
		if w.on("/admin/mfa/setup") && w.on("/auth/login") {
			admin := w.staff["admin_mfa"]
			w.mfaSecret, _ = a.must(200, "POST", "/admin/mfa/setup", nil, w.login(t, a, admin).access)["secret"].(string)
			w.mfaPair = w.verifyMFA(t, a, w.login(t, a, admin).access)
			_, claims := a.verify(w.mfaPair.access)
			w.mfaAt, _ = claims["mfa_verified_at"].(float64)
		}
		if w.on("/tokens/api-key") && w.on("/auth/login") {
			bearer := w.login(t, a, w.staff["admin"]).access
			if w.mfaPair.access != "" {
				bearer = w.mfaPair.access
			}
			w.apiKeyScopes = []string{"tickets:read", "wallet:charge"}
			w.apiKey, _ = a.must(200, "POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "gate scanner", "scopes": w.apiKeyScopes}, bearer)["api_key"].(string)
		}
		if w.on("/devices/operator-token") {
			w.ost = w.operatorToken(t, a)
		}
		if w.on("/auth/login") {
			m := a.must(200, "POST", "/tokens/offline", map[string]any{"event_id": ev}, w.login(t, a, w.staff["operator_bound"]).access)
			w.offline = append(w.offline, offline{what: "POST /tokens/offline", token: str(m["offline_token"]), eventID: ev})
		}
		if w.on("/auth/login/device") {
			dv := w.devices["with_operator"]
			m := a.must(200, "POST", "/auth/login/device", map[string]any{"dev_mac": dv.mac, "event_id": ev}, "")
			w.offline = append(w.offline, offline{what: "device login", token: str(m["offline_token"]), eventID: ev, deviceID: dv.id})
			if w.on("/auth/login") {
				m = a.must(200, "POST", fmt.Sprintf("/devices/%d/token", dv.id), map[string]any{"operator_id": w.staff["operator_bound"].id}, w.login(t, a, w.staff["admin"]).access)
				w.offline = append(w.offline, offline{what: "POST /devices/{id}/token", token: str(m["offline_token"]), eventID: ev, deviceID: dv.id})
			}
		}
		if w.on("/auth/login/phone") {
			w.phone = randomPhone()
			w.phoneConsumer = w.phoneLogin(t, a)
		}
		if w.on("/auth/login/firebase") {
			w.firebaseEmail, w.firebasePassword = "fan-"+randomHex(4)+"@upgrade.cashless.test", "fb-"+randomHex(8)
			_, idToken := w.peers.firebase.signIn(t, w.firebaseEmail, w.firebasePassword, true)
			w.firebaseConsumer = w.consumerOf(t, a, a.must(200, "POST", "/auth/login/firebase", map[string]any{"id_token": idToken}, ""))
		}
		if w.on("/admin/password-reset/email-send") {
			admin := w.staff["admin"]
			if w.on("/auth/login") {
				m := a.must(200, "POST", "/tokens/offline", map[string]any{"event_id": ev}, w.login(t, a, admin).access)
				w.adminOffline = str(m["offline_token"])
			}
			a.must(200, "POST", "/admin/password-reset/email-send", map[string]any{"email": admin.email}, "")
			w.resetToken = testkit.LinkToken(t, w.peers.mail.Wait(t, admin.email, 1)[0], resetLink)
		}
	})
}

// checkUpgrade is the first start of the current binary: everything of checkAgain, and the
// one-time things: the pending reset token works once, the outstanding sessions refresh.
func (w *world) checkUpgrade(t *testing.T, a *api) {
	w.checkAgain(t, a)
	if w.resetToken != "" {
		admin := w.staff["admin"]
		if valid, claims := a.verify(w.adminOffline); w.adminOffline != "" && !valid {
			t.Errorf("the admin's offline token no longer verifies before the reset: %v", claims)
		}
		newPassword := "reset-" + randomHex(8)
		a.must(200, "POST", "/admin/password-reset/"+w.resetToken, map[string]any{"new_password": newPassword}, "")
		a.must(410, "POST", "/admin/password-reset/"+w.resetToken, map[string]any{"new_password": "again-" + randomHex(8)}, "")
		if r := a.do("POST", "/auth/login", map[string]any{"email": admin.email, "password": admin.password, "role": admin.role}, ""); r.Status != 401 {
			t.Errorf("the password replaced by the reset still logs in: %d %s", r.Status, r.Body)
		}
		admin.password = newPassword
		w.login(t, a, admin)
		w.resetToken = ""
		// The reset ended the admin's sessions, the one the release issued included.
		if valid, _ := a.verify(admin.session.access); valid && w.d.sessionsSurviveRestart {
			t.Errorf("the admin's session outlived the password reset")
		}
		if r := a.do("POST", "/auth/refresh", map[string]any{"refresh_token": admin.session.refresh}, ""); r.Status != 401 {
			t.Errorf("the admin's refresh token outlived the password reset: %d", r.Status)
		}
		admin.session = pair{}
		w.adminReset = true
		w.checkAdminOffline(t, a)
	}
}

// checkLeaver: the leaver logs in until the current binary disabled them; after that no binary
// lets them in, the release's on rollback included (the "!"-marked hash of migration 00004 is
// a format the release's verifier refuses), with the answer of a wrong password.
func (w *world) checkLeaver(t *testing.T, a *api) {
	r := a.do("POST", "/auth/login", map[string]any{"email": w.leaver.email, "password": w.leaver.password, "role": "admin"}, "")
	switch {
	case !w.disabled && r.Status != 200:
		t.Errorf("the admin to be disabled cannot log in yet: %d %s", r.Status, r.Body)
	case w.disabled && r.Status != 401:
		t.Errorf("a disabled admin logs in: %d %s", r.Status, r.Body)
	}
}

// disableLeaver runs the current binary's `users disable` on the leaver.
func (w *world) disableLeaver(t *testing.T, bin string) {
	run(t, bin, w.d.work, w.d.env, "", "users", "disable", "--id", strconv.FormatInt(w.leaver.id, 10))
	w.disabled = true
}

// checkAdminOffline: the reset ended the offline token the release issued to the admin, which
// carries no session (docs/contract/NOTES.md, "Hardening decisions": one revocation primitive, a
// per-subject not-before time set by a password reset). The release does not read that time
// (table token_not_before): on a rollback the token verifies again until it expires, as it did
// under the release (docs/upgrading.md, "Next release").
func (w *world) checkAdminOffline(t *testing.T, a *api) {
	t.Helper()
	if w.adminOffline == "" || !w.adminReset {
		return
	}
	valid, claims := a.verify(w.adminOffline)
	switch {
	case w.current && valid:
		t.Errorf("the admin's offline token outlived the password reset (NOTES.md, one revocation primitive): %v", claims)
	case !w.current && !valid:
		t.Errorf("rollback: the release refuses the admin's offline token it issued, which it cannot know revoked: %v", claims)
	}
}

// checkAgain holds on every start after provisioning, of either binary: the same people log in
// into the same ids on every enabled lane, MFA guards the same admins, and the outstanding
// tokens, API key and ost_ token verify (sessions refresh where the state store outlives the
// process).
func (w *world) checkAgain(t *testing.T, a *api) {
	if w.on("/auth/login") {
		for _, p := range w.staff {
			w.login(t, a, p)
		}
		w.checkLeaver(t, a)
		for _, p := range w.staff {
			if p.session.access == "" {
				continue
			}
			w.outstanding(t, a, p.key, &p.session, p.id)
		}
	}
	if w.mfaSecret != "" && w.on("/admin/mfa/verify") {
		w.checkMFA(t, a)
	}
	if w.apiKey != "" {
		valid, claims := a.verify(w.apiKey)
		if !valid || claims["type"] != "api_key" || num(claims["event_id"]) != w.event || fmt.Sprint(claims["scopes"]) != fmt.Sprint(toAny(w.apiKeyScopes)) {
			t.Errorf("API key: valid %v, claims %v; want an api_key of event %d with scopes %v", valid, claims, w.event, w.apiKeyScopes)
		}
	}
	if w.ost != "" {
		if valid, claims := a.verify(w.ost); !valid {
			t.Errorf("the operator's ost_ token no longer verifies: %v", claims)
		}
		if w.on("/devices/operator-token") {
			if got := w.operatorToken(t, a); got != w.ost {
				t.Errorf("POST /devices/operator-token issued a new token; the persisted one must be reused until logout")
			}
		}
	}
	w.checkAdminOffline(t, a)
	for _, o := range w.offline {
		valid, claims := a.verify(o.token)
		if !valid || claims["type"] != "offline" || num(claims["event_id"]) != o.eventID || o.deviceID != 0 && num(claims["device_id"]) != o.deviceID {
			t.Errorf("offline token of %s: valid %v, claims %v; want event %d device %d", o.what, valid, claims, o.eventID, o.deviceID)
		}
	}
	if w.on("/auth/login/device") {
		ev := w.event
		for name, dv := range w.devices {
			r := a.do("POST", "/auth/login/device", map[string]any{"dev_mac": dv.mac, "event_id": ev}, "")
			want := 200
			if !dv.operator || dv.archived {
				want = 401
			}
			if r.Status != want {
				t.Errorf("device %s logs in with %d, want %d: %s", name, r.Status, want, r.Body)
				continue
			}
			if want == 200 {
				if _, claims := a.verify(str(r.JSON(t)["offline_token"])); num(claims["device_id"]) != dv.id {
					t.Errorf("device %s logged in as %v, want device %d", name, claims["device_id"], dv.id)
				}
			}
		}
	}
	if w.phoneConsumer != "" && w.on("/auth/login/phone") {
		if got := w.phoneLogin(t, a); got != w.phoneConsumer {
			t.Errorf("phone %s logged in as consumer %s, want %s", w.phone, got, w.phoneConsumer)
		}
	}
	if w.firebaseConsumer != "" && w.on("/auth/login/firebase") {
		_, idToken := w.peers.firebase.signIn(t, w.firebaseEmail, w.firebasePassword, false)
		if got := w.consumerOf(t, a, a.must(200, "POST", "/auth/login/firebase", map[string]any{"id_token": idToken}, "")); got != w.firebaseConsumer {
			t.Errorf("the Firebase user logged in as consumer %s, want %s", got, w.firebaseConsumer)
		}
	}
}

// outstanding checks a session issued before the restart: where sessions outlive the process
// its access token verifies and its refresh token rotates into the same subject (the new pair
// is kept for the next phase); on the embedded backend both end with the process, as they did
// when the release restarted.
func (w *world) outstanding(t *testing.T, a *api, who string, s *pair, id int64) {
	t.Helper()
	valid, claims := a.verify(s.access)
	if !w.d.sessionsSurviveRestart {
		if valid {
			t.Errorf("%s: an access token of the embedded backend's previous process still verifies: %v", who, claims)
		}
		if r := a.do("POST", "/auth/refresh", map[string]any{"refresh_token": s.refresh}, ""); r.Status != 401 {
			t.Errorf("%s: a refresh token of the embedded backend's previous process: %d, want 401", who, r.Status)
		}
		return
	}
	// The access token may have expired (jwt.access_ttl) in a long run; the refresh may not.
	if !valid && claims != nil {
		t.Errorf("%s: outstanding access token invalid with claims %v", who, claims)
	}
	if valid && claims["sub"] != strconv.FormatInt(id, 10) {
		t.Errorf("%s: outstanding access token of subject %v, want %d", who, claims["sub"], id)
	}
	next := pairOf(a.must(200, "POST", "/auth/refresh", map[string]any{"refresh_token": s.refresh}, ""))
	if valid, claims := a.verify(next.access); !valid || claims["sub"] != strconv.FormatInt(id, 10) {
		t.Errorf("%s: refreshed access token: valid %v, claims %v, want subject %d", who, valid, claims, id)
	}
	*s = next
}

// login logs p in through POST /auth/login and checks the token is p's: same id, role and event.
func (w *world) login(t *testing.T, a *api, p *person) pair {
	t.Helper()
	s := pairOf(a.must(200, "POST", "/auth/login", map[string]any{"email": p.email, "password": p.password, "role": p.role}, ""))
	valid, claims := a.verify(s.access)
	switch {
	case !valid:
		t.Fatalf("%s: fresh access token does not verify", p.key)
	case claims["sub"] != strconv.FormatInt(p.id, 10) || claims["role"] != p.role:
		t.Errorf("%s logged in as %v/%v, want %d/%s", p.key, claims["sub"], claims["role"], p.id, p.role)
	case p.eventID != nil && num(claims["event_id"]) != *p.eventID:
		t.Errorf("%s (bound to event %d) got a token for event %v", p.key, *p.eventID, claims["event_id"])
	}
	return s
}

// checkMFA: the admin with MFA keeps it (the release's secret still verifies, its MFA-fresh
// session keeps its verification time through refresh), the other admin still has none.
func (w *world) checkMFA(t *testing.T, a *api) {
	t.Helper()
	admin := w.staff["admin_mfa"]
	access := w.login(t, a, admin).access
	if me := a.must(200, "GET", "/admin/me", nil, access); me["mfa_enabled"] != true {
		t.Errorf("admin with MFA: /admin/me says %v", me)
	}
	if r := a.do("GET", "/admin/sensitive/ping", nil, access); r.Status != 403 {
		t.Errorf("admin with MFA, not verified in this session: sensitive ping %d, want 403", r.Status)
	}
	fresh := w.verifyMFA(t, a, access)
	a.must(200, "GET", "/admin/sensitive/ping", nil, fresh.access)

	plain := w.staff["admin"]
	plainAccess := w.login(t, a, plain).access
	if me := a.must(200, "GET", "/admin/me", nil, plainAccess); me["mfa_enabled"] != false {
		t.Errorf("admin without MFA: /admin/me says %v", me)
	}
	if r := a.do("GET", "/admin/sensitive/ping", nil, plainAccess); r.Status != 403 {
		t.Errorf("admin without MFA: sensitive ping %d, want 403", r.Status)
	}

	if w.d.sessionsSurviveRestart && w.mfaPair.refresh != "" {
		next := pairOf(a.must(200, "POST", "/auth/refresh", map[string]any{"refresh_token": w.mfaPair.refresh}, ""))
		if _, claims := a.verify(next.access); claims["mfa_verified_at"] != w.mfaAt {
			t.Errorf("the MFA-fresh session refreshed with mfa_verified_at %v, want %v", claims["mfa_verified_at"], w.mfaAt)
		}
		w.mfaPair = next
	}
}

// verifyMFA sends a TOTP code of a time step not accepted before (a code is accepted once).
func (w *world) verifyMFA(t *testing.T, a *api, access string) pair {
	t.Helper()
	for {
		now := time.Now()
		step := now.Unix() / 30
		at := step
		for w.mfaSteps[at] {
			at++
		}
		if at > step+1 { // beyond the ±1 step skew: wait for the next step
			time.Sleep(time.Until(time.Unix((step+1)*30, 0)) + 100*time.Millisecond)
			continue
		}
		code, err := totp.GenerateCode(w.mfaSecret, time.Unix(at*30, 0))
		if err != nil {
			t.Fatal(err)
		}
		w.mfaSteps[at] = true
		return pairOf(a.must(200, "POST", "/admin/mfa/verify", map[string]any{"code": code}, access))
	}
}

// operatorToken logs operator_bound in through the legacy operator lane and returns its token.
func (w *world) operatorToken(t *testing.T, a *api) string {
	t.Helper()
	op := w.staff["operator_bound"]
	m := a.must(200, "POST", "/devices/operator-token", map[string]any{"email": op.email, "password": op.password, "dev_type": "POS", "dev_mac": w.devices["with_operator"].mac}, "")
	if num(m["user_id"]) != op.id || num(m["event_id"]) != w.event {
		t.Errorf("operator token for user %v event %v, want %d/%d", m["user_id"], m["event_id"], op.id, w.event)
	}
	tok := str(m["token"])
	if !strings.HasPrefix(tok, "ost_") {
		t.Errorf("operator token %q lacks the ost_ prefix", tok)
	}
	return tok
}

// phoneLogin logs the phone consumer in by SMS code and returns its subject.
func (w *world) phoneLogin(t *testing.T, a *api) string {
	t.Helper()
	n := w.peers.sms.count(w.phone)
	a.must(200, "POST", "/auth/login/phone", map[string]any{"phone": w.phone}, "")
	code := w.peers.sms.waitCode(t, w.phone, n+1)
	return w.consumerOf(t, a, a.must(200, "POST", "/auth/login/phone/verify", map[string]any{"phone": w.phone, "code": code}, ""))
}

func (w *world) consumerOf(t *testing.T, a *api, tokens map[string]any) string {
	t.Helper()
	valid, claims := a.verify(str(tokens["access_token"]))
	if !valid || claims["role"] != "consumer" {
		t.Fatalf("consumer login: valid %v, claims %v", valid, claims)
	}
	return str(claims["sub"])
}

func str(v any) string { s, _ := v.(string); return s }

// num reads a JSON number, or a string of digits (map-of-strings answers), as an int64.
func num(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return -1
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func randomMAC() string {
	b := randomHex(6)
	parts := make([]string, 6)
	for i := range parts {
		parts[i] = b[2*i : 2*i+2]
	}
	parts[0] = "02" // locally administered, unicast
	return strings.ToUpper(strings.Join(parts, ":"))
}

// randomPhone is a French mobile number in E.164 (+33 6 …), as the SMS sink receives it.
func randomPhone() string {
	var n uint32
	for _, c := range randomHex(4) {
		n = n*16 + uint32(strings.IndexRune("0123456789abcdef", c))
	}
	return fmt.Sprintf("+3366%07d", n%10000000) // 066…: a range libphonenumber knows as French mobile
}
