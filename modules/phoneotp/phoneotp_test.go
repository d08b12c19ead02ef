package phoneotp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// smsBox is an SMS gateway behind the webhook provider: it records what it was asked to send.
type smsBox struct {
	t    *testing.T
	srv  *httptest.Server
	fail atomic.Bool // answer 502 (after recording the message)
	mu   sync.Mutex
	msgs []smsMessage
}

type smsMessage struct {
	To, Body, Code, Auth string
}

func newSMSBox(t *testing.T) *smsBox {
	b := &smsBox{t: t}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Body, Code string }
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook: %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook: body: %v", err)
		}
		b.mu.Lock()
		b.msgs = append(b.msgs, smsMessage{To: m.To, Body: m.Body, Code: m.Code, Auth: r.Header.Get("Authorization")})
		b.mu.Unlock()
		if b.fail.Load() {
			http.Error(w, "gateway down", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// last returns the last message sent to the E.164 number to.
func (b *smsBox) last(to string) smsMessage {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if b.msgs[i].To == to {
			return b.msgs[i]
		}
	}
	b.t.Fatalf("no SMS sent to %s", to)
	return smsMessage{}
}

func (b *smsBox) count(to string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.msgs {
		if m.To == to {
			n++
		}
	}
	return n
}

func webhookConfig(box *smsBox, extra map[string]any) map[string]any {
	cfg := map[string]any{
		"modules.phone_otp.sms.provider":       "webhook",
		"modules.phone_otp.sms.webhook.url":    box.srv.URL + "/send",
		"modules.phone_otp.sms.webhook.secret": "gateway-secret",
		// Many requests from one address: lift the per-IP limits, which have their own test.
		"ratelimit.routes.phone_otp.request": "1000/minute",
		"ratelimit.routes.phone_otp.verify":  "1000/minute",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

func opts(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

// Distinct valid US numbers, one per subtest, so per-number limits never interfere.
var numbers atomic.Int64

func nextNumber() (display, e164 string) {
	n := numbers.Add(1)
	return fmt.Sprintf("+1 (202) 555-%04d", 100+n), fmt.Sprintf("+1202555%04d", 100+n)
}

func requestCode(t *testing.T, c *testkit.Client, phone string) *testkit.Response {
	t.Helper()
	return c.Do("POST", "/auth/login/phone", map[string]any{"phone": phone})
}

func verify(c *testkit.Client, phone, code string) *testkit.Response {
	return c.Do("POST", "/auth/login/phone/verify", map[string]any{"phone": phone, "code": code})
}

func wrong(code string) string {
	return fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func TestPhoneOTP(t *testing.T) {
	box := newSMSBox(t)
	testkit.ForEachBackend(t, opts(webhookConfig(box, nil)), func(t *testing.T, env *testkit.Env) {
		c := env.Client

		t.Run("full flow: the code travels by SMS only and logs a consumer in", func(t *testing.T) {
			display, e164 := nextNumber()
			r := requestCode(t, c, display)
			if r.Status != 200 {
				t.Fatalf("request: %d %s", r.Status, r.Body)
			}
			msg := box.last(e164)
			if !sixDigits.MatchString(msg.Code) || !strings.Contains(msg.Body, msg.Code) {
				t.Fatalf("SMS: %+v", msg)
			}
			if msg.Auth != "Bearer gateway-secret" {
				t.Fatalf("webhook Authorization %q", msg.Auth)
			}
			if strings.Contains(string(r.Body), msg.Code) {
				t.Fatalf("the answer contains the code: %s", r.Body)
			}
			if _, ok := r.JSON(t)["message"].(string); !ok {
				t.Fatalf("answer: %s", r.Body)
			}
			// Written differently, the same number.
			v := verify(c, e164, msg.Code)
			if v.Status != 200 {
				t.Fatalf("verify: %d %s", v.Status, v.Body)
			}
			pair := v.JSON(t)
			claims := c.Do("POST", "/tokens/verify", map[string]any{"token": pair["access_token"]}).JSON(t)["claims"].(map[string]any)
			if claims["role"] != "consumer" || claims["type"] != "access" {
				t.Fatalf("claims %v", claims)
			}
			consumers := store.NewConsumers(env.DB)
			var id int64
			fmt.Sscan(claims["sub"].(string), &id)
			got, err := consumers.ByID(context.Background(), id)
			if err != nil || got.Phone == nil || *got.Phone != e164 {
				t.Fatalf("consumer %d: %+v %v", id, got, err)
			}
			// The refresh token works like every lane's.
			if rr := c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": pair["refresh_token"]}); rr.Status != 200 {
				t.Fatalf("refresh: %d %s", rr.Status, rr.Body)
			}

			t.Run("a code works once", func(t *testing.T) {
				if v := verify(c, e164, msg.Code); v.Status != 401 {
					t.Fatalf("reuse: %d %s", v.Status, v.Body)
				}
			})
			t.Run("the next login finds the same consumer", func(t *testing.T) {
				requestCode(t, c, e164)
				v := verify(c, display, box.last(e164).Code)
				if v.Status != 200 {
					t.Fatalf("second login: %d %s", v.Status, v.Body)
				}
				cl := c.Do("POST", "/tokens/verify", map[string]any{"token": v.JSON(t)["access_token"]}).JSON(t)["claims"].(map[string]any)
				if cl["sub"] != claims["sub"] {
					t.Fatalf("second login is consumer %v, first was %v", cl["sub"], claims["sub"])
				}
			})
		})

		t.Run("the answer is the same for known and unknown numbers", func(t *testing.T) {
			_, known := nextNumber()
			if _, _, err := store.NewConsumers(env.DB).UpsertByPhone(context.Background(), known); err != nil {
				t.Fatal(err)
			}
			_, unknown := nextNumber()
			a, b := requestCode(t, c, known), requestCode(t, c, unknown)
			if a.Status != 200 || b.Status != 200 || string(a.Body) != string(b.Body) {
				t.Fatalf("known %d %s, unknown %d %s", a.Status, a.Body, b.Status, b.Body)
			}
		})

		t.Run("another number's code fails", func(t *testing.T) {
			_, a := nextNumber()
			_, b := nextNumber()
			requestCode(t, c, a)
			requestCode(t, c, b)
			if v := verify(c, b, box.last(a).Code); v.Status != 401 {
				t.Fatalf("a's code for b: %d", v.Status)
			}
			if v := verify(c, a, box.last(a).Code); v.Status != 200 {
				t.Fatalf("a's code for a: %d %s", v.Status, v.Body)
			}
		})

		t.Run("a new request replaces the old code", func(t *testing.T) {
			_, p := nextNumber()
			requestCode(t, c, p)
			old := box.last(p).Code
			requestCode(t, c, p)
			fresh := box.last(p).Code
			if old != fresh {
				if v := verify(c, p, old); v.Status != 401 {
					t.Fatalf("old code: %d", v.Status)
				}
			}
			if v := verify(c, p, fresh); v.Status != 200 {
				t.Fatalf("new code: %d %s", v.Status, v.Body)
			}
		})

		t.Run("five wrong tries void the code, with one message for every failure", func(t *testing.T) {
			_, p := nextNumber()
			requestCode(t, c, p)
			code := box.last(p).Code
			var details []string
			for i := 0; i < 5; i++ {
				v := verify(c, p, wrong(code))
				if v.Status != 401 {
					t.Fatalf("wrong try %d: %d", i+1, v.Status)
				}
				details = append(details, v.Detail(t))
			}
			v := verify(c, p, code)
			if v.Status != 401 {
				t.Fatalf("right code after 5 wrong tries: %d %s", v.Status, v.Body)
			}
			details = append(details, v.Detail(t))
			_, never := nextNumber()
			details = append(details, verify(c, never, "123456").Detail(t))
			for _, d := range details {
				if d != details[0] {
					t.Fatalf("401 messages differ: %q", details)
				}
			}
		})

		t.Run("ten wrong codes an hour lock the number across codes", func(t *testing.T) {
			_, p := nextNumber()
			for round := 0; round < 2; round++ {
				requestCode(t, c, p)
				code := box.last(p).Code
				for i := 0; i < 5; i++ {
					if v := verify(c, p, wrong(code)); v.Status != 401 {
						t.Fatalf("round %d try %d: %d", round, i+1, v.Status)
					}
				}
			}
			v := verify(c, p, "000000")
			if v.Status != 429 || v.Header.Get("Retry-After") == "" {
				t.Fatalf("11th failure: %d %q", v.Status, v.Header.Get("Retry-After"))
			}
			// No new code is sent while the number is locked.
			sent := box.count(p)
			if r := requestCode(t, c, p); r.Status != 429 {
				t.Fatalf("request while locked: %d", r.Status)
			}
			if box.count(p) != sent {
				t.Fatal("an SMS was sent to a locked number")
			}
		})

		t.Run("per-number send limit, whatever the IP", func(t *testing.T) {
			_, p := nextNumber()
			for i := 0; i < 5; i++ {
				if r := requestCode(t, c, p); r.Status != 200 {
					t.Fatalf("send %d: %d %s", i+1, r.Status, r.Body)
				}
			}
			r := requestCode(t, c, p)
			if r.Status != 429 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("6th send: %d %q", r.Status, r.Header.Get("Retry-After"))
			}
			if box.count(p) != 5 {
				t.Fatalf("%d SMS sent, want 5", box.count(p))
			}
			// The last code sent still works; other numbers are not affected.
			if v := verify(c, p, box.last(p).Code); v.Status != 200 {
				t.Fatalf("verify after the limit: %d", v.Status)
			}
			_, other := nextNumber()
			if r := requestCode(t, c, other); r.Status != 200 {
				t.Fatalf("other number: %d", r.Status)
			}
		})

		t.Run("a provider failure is a 503 and leaves no usable code", func(t *testing.T) {
			_, p := nextNumber()
			requestCode(t, c, p)
			earlier := box.last(p).Code
			box.fail.Store(true)
			r := requestCode(t, c, p)
			box.fail.Store(false)
			if r.Status != 503 {
				t.Fatalf("gateway down: %d %s", r.Status, r.Body)
			}
			failed := box.last(p).Code
			if strings.Contains(string(r.Body), failed) {
				t.Fatalf("503 contains the code: %s", r.Body)
			}
			if v := verify(c, p, failed); v.Status != 401 {
				t.Fatalf("the code of the failed send: %d", v.Status)
			}
			if v := verify(c, p, earlier); v.Status != 401 {
				t.Fatalf("the code before the failed send: %d", v.Status)
			}
		})

		t.Run("concurrent uses of one code: exactly one wins", func(t *testing.T) {
			_, p := nextNumber()
			requestCode(t, c, p)
			code := box.last(p).Code
			body := fmt.Sprintf(`{"phone":%q,"code":%q}`, p, code)
			var wg sync.WaitGroup
			var wins atomic.Int32
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := http.Post(env.URL+"/auth/login/phone/verify", "application/json", strings.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						wins.Add(1)
					} else if resp.StatusCode != 401 {
						t.Errorf("status %d", resp.StatusCode)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d winners", wins.Load())
			}
		})

		t.Run("malformed numbers and bodies are 422s", func(t *testing.T) {
			for _, path := range []string{"/auth/login/phone", "/auth/login/phone/verify"} {
				for _, phone := range []string{"not a number", "+1 555", "2025550143", "+999 1234", ""} {
					body := map[string]any{"phone": phone}
					if path == "/auth/login/phone/verify" {
						body["code"] = "123456"
					}
					r := c.Do("POST", path, body)
					if r.Status != 422 {
						t.Fatalf("%s %q: %d %s", path, phone, r.Status, r.Body)
					}
					first := r.JSON(t)["detail"].([]any)[0].(map[string]any)
					if fmt.Sprint(first["loc"]) != "[body phone]" || first["type"] != "value_error" || first["msg"] != "Value error, invalid phone number" {
						t.Fatalf("%s %q: %v", path, phone, first)
					}
				}
			}
			for _, body := range []map[string]any{
				{"phone": "+12025550100", "code": "12345"},
				{"phone": "+12025550100", "code": "1234567"},
				{"phone": "+12025550100"},
				{"phone": "+12025550100", "code": "123456", "extra": true},
			} {
				if r := c.Do("POST", "/auth/login/phone/verify", body); r.Status != 422 {
					t.Fatalf("%v: %d", body, r.Status)
				}
			}
			if r := c.Do("POST", "/auth/login/phone", map[string]any{"phone": 12025550100}); r.Status != 422 {
				t.Fatalf("number as JSON number: %d", r.Status)
			}
		})
	})
}

func TestCodeExpires(t *testing.T) {
	box := newSMSBox(t)
	testkit.ForEachBackend(t, opts(webhookConfig(box, map[string]any{"modules.phone_otp.code_ttl": "1s"})), func(t *testing.T, env *testkit.Env) {
		_, p := nextNumber()
		requestCode(t, env.Client, p)
		msg := box.last(p)
		if !strings.Contains(msg.Body, "1 second") {
			t.Errorf("SMS body does not state the lifetime: %q", msg.Body)
		}
		time.Sleep(1200 * time.Millisecond)
		if v := verify(env.Client, p, msg.Code); v.Status != 401 {
			t.Fatalf("expired code: %d %s", v.Status, v.Body)
		}
	})
}

func TestRateLimitPerIP(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		for i := 0; i < 30; i++ {
			_, p := nextNumber()
			if r := requestCode(t, c, p); r.Status != 200 {
				t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		_, p := nextNumber()
		if r := requestCode(t, c, p); r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("31st request: %d %q", r.Status, r.Header.Get("Retry-After"))
		}
		for i := 0; i < 30; i++ {
			_, p := nextNumber()
			if v := verify(c, p, "123456"); v.Status != 401 {
				t.Fatalf("verify %d: %d", i+1, v.Status)
			}
		}
		if v := verify(c, p, "123456"); v.Status != 429 || v.Header.Get("Retry-After") == "" {
			t.Fatalf("31st verify: %d", v.Status)
		}
	})
}

// twilio is a stand-in for api.twilio.com that checks the request as Twilio documents it.
type twilio struct {
	t      *testing.T
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	forms  []url.Values
}

func newTwilio(t *testing.T) *twilio {
	tw := &twilio{t: t}
	tw.status.Store(201)
	tw.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json" {
			t.Errorf("twilio: %s %s", r.Method, r.URL.Path)
		}
		if !ok || user != "AC0123456789abcdef" || pass != "twilio-auth-token" {
			t.Errorf("twilio: basic auth %q %q %v", user, pass, ok)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("twilio: Content-Type %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("twilio: form: %v", err)
		}
		tw.mu.Lock()
		tw.forms = append(tw.forms, r.PostForm)
		tw.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		status := int(tw.status.Load())
		w.WriteHeader(status)
		if status >= 300 {
			_, _ = io.WriteString(w, `{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}`)
			return
		}
		_, _ = fmt.Fprintf(w, `{"sid": "SM0123", "status": "queued", "to": %q}`, r.PostForm.Get("To"))
	}))
	t.Cleanup(tw.srv.Close)
	return tw
}

func (tw *twilio) last() url.Values {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if len(tw.forms) == 0 {
		tw.t.Fatal("nothing sent to Twilio")
	}
	return tw.forms[len(tw.forms)-1]
}

func TestTwilioProvider(t *testing.T) {
	tw := newTwilio(t)
	cfg := map[string]any{
		"modules.phone_otp.sms.provider":           "twilio",
		"modules.phone_otp.sms.twilio.base_url":    tw.srv.URL,
		"modules.phone_otp.sms.twilio.account_sid": "AC0123456789abcdef",
		"modules.phone_otp.sms.twilio.auth_token":  "twilio-auth-token",
		"modules.phone_otp.sms.twilio.from":        "+15005550006",
	}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		_, p := nextNumber()
		if r := requestCode(t, env.Client, p); r.Status != 200 {
			t.Fatalf("request: %d %s", r.Status, r.Body)
		}
		form := tw.last()
		if form.Get("To") != p || form.Get("From") != "+15005550006" || len(form) != 3 {
			t.Fatalf("form %v", form)
		}
		code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(form.Get("Body"))
		if code == "" {
			t.Fatalf("no code in Body %q", form.Get("Body"))
		}
		if v := verify(env.Client, p, code); v.Status != 200 {
			t.Fatalf("verify: %d %s", v.Status, v.Body)
		}

		tw.status.Store(400)
		defer tw.status.Store(201)
		_, q := nextNumber()
		if r := requestCode(t, env.Client, q); r.Status != 503 {
			t.Fatalf("Twilio error: %d %s", r.Status, r.Body)
		}
		code = regexp.MustCompile(`\b[0-9]{6}\b`).FindString(tw.last().Get("Body"))
		if v := verify(env.Client, q, code); v.Status != 401 {
			t.Fatalf("code of a failed send: %d", v.Status)
		}
	})
}

func TestUnreachableGateway(t *testing.T) {
	box := newSMSBox(t)
	url := box.srv.URL
	box.srv.Close() // nothing listens there any more
	cfg := map[string]any{"modules.phone_otp.sms.provider": "webhook", "modules.phone_otp.sms.webhook.url": url, "modules.phone_otp.sms.timeout": "2s"}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		_, p := nextNumber()
		if r := requestCode(t, env.Client, p); r.Status != 503 {
			t.Fatalf("unreachable gateway: %d %s", r.Status, r.Body)
		}
	})
}

func TestDisabled(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"modules.phone_otp.enabled": false}), func(t *testing.T, env *testkit.Env) {
		if r := requestCode(t, env.Client, "+12025550100"); r.Status != 404 {
			t.Fatalf("request: %d", r.Status)
		}
		if r := verify(env.Client, "+12025550100", "123456"); r.Status != 404 {
			t.Fatalf("verify: %d", r.Status)
		}
	})
}

func TestConfigIsChecked(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"modules.phone_otp.sms.provider": "carrier-pigeon"}, "modules.phone_otp.sms.provider"},
		{map[string]any{"modules.phone_otp.sms.provider": "webhook"}, "modules.phone_otp.sms.webhook.url"},
		{map[string]any{"modules.phone_otp.sms.provider": "webhook", "modules.phone_otp.sms.webhook.url": "ftp://x"}, "modules.phone_otp.sms.webhook.url"},
		{map[string]any{"modules.phone_otp.sms.provider": "twilio"}, "modules.phone_otp.sms.twilio"},
		{map[string]any{"modules.phone_otp.default_region": "XX"}, "modules.phone_otp.default_region"},
		{map[string]any{"modules.phone_otp.code_ttl": "0s"}, "modules.phone_otp.code_ttl"},
		{map[string]any{"modules.phone_otp.max_attempts": 0}, "modules.phone_otp.max_attempts"},
		{map[string]any{"modules.phone_otp.sms.twilio.region": "x"}, "region"},
	} {
		_, _, err := core.Load("", modules.All(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.cfg, err, tc.want)
		}
	}
	// Switched off, the module's settings are not checked.
	if _, _, err := core.Load("", modules.All(), map[string]any{"modules.phone_otp.enabled": false, "modules.phone_otp.sms.provider": "twilio"}); err != nil {
		t.Errorf("disabled module: %v", err)
	}
	// Under their old, top-level names the settings are still read, with a warning each.
	_, c, err := core.Load("", modules.All(), map[string]any{"sms.provider": "carrier-pigeon", "phone_otp.code_ttl": "2m"})
	if err == nil || !strings.Contains(err.Error(), "modules.phone_otp.sms.provider: must be log, webhook or twilio") {
		t.Errorf("old sms.provider not read: %v", err)
	}
	if len(c.Renamed) != 2 {
		t.Errorf("renamed %+v, want phone_otp.code_ttl and sms.provider", c.Renamed)
	}
}

func TestDefaultRegion(t *testing.T) {
	box := newSMSBox(t)
	testkit.ForEachBackend(t, opts(webhookConfig(box, map[string]any{"modules.phone_otp.default_region": "fr"})), func(t *testing.T, env *testkit.Env) {
		if r := requestCode(t, env.Client, "06 12 34 56 78"); r.Status != 200 {
			t.Fatalf("national French number: %d %s", r.Status, r.Body)
		}
		if v := verify(env.Client, "+33612345678", box.last("+33612345678").Code); v.Status != 200 {
			t.Fatalf("verify in E.164: %d", v.Status)
		}
	})
}
