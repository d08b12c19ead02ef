package upgrade

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The programs the gate talks to beside PostgreSQL and Redis: Mailpit and the Firebase Auth
// emulator (started by `make test`), and a stand-in for the SMS providers' HTTP APIs, the one
// third party that cannot run here.

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// smsSink receives what the service sends through sms.provider webhook or twilio.
type smsSink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent map[string][]string // E.164 number -> codes, oldest first
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func newSMSSink(t *testing.T) *smsSink {
	s := &smsSink{sent: map[string][]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var to, code string
		switch {
		case r.URL.Path == "/webhook":
			var m struct{ To, Code string }
			if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			to, code = m.To, m.Code
		case strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") && strings.HasSuffix(r.URL.Path, "/Messages.json"):
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			to, code = r.PostForm.Get("To"), sixDigits.FindString(r.PostForm.Get("Body"))
		default:
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.sent[to] = append(s.sent[to], code)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"sid":"SM` + randomHex(16) + `","status":"queued"}`))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// count is how many codes went to phone.
func (s *smsSink) count(phone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent[phone])
}

// waitCode returns the code of message number n (from 1) to phone.
func (s *smsSink) waitCode(t *testing.T, phone string, n int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		codes := s.sent[phone]
		s.mu.Unlock()
		if len(codes) >= n {
			return codes[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMS: %d message(s) to %s, want %d", len(codes), phone, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// firebaseProject is the Auth emulator's project (scripts/services.sh firebase-emulator-start).
const firebaseProject = "demo-cashless"

// emulator is the Firebase Auth emulator.
type emulator struct{ host string }

// newEmulator returns nil when CASHLESS_AUTH_TEST_FIREBASE=off (as the Firebase lane's own
// tests): the gate then runs every scenario with the Firebase lane off.
func newEmulator(t *testing.T) *emulator {
	t.Helper()
	if os.Getenv("CASHLESS_AUTH_TEST_FIREBASE") == "off" {
		t.Log("CASHLESS_AUTH_TEST_FIREBASE=off: the Firebase lane is off in every scenario")
		return nil
	}
	host := os.Getenv("FIREBASE_AUTH_EMULATOR_HOST")
	if host == "" {
		t.Fatal("FIREBASE_AUTH_EMULATOR_HOST is not set: the gate provisions a Firebase-linked consumer through the " +
			"Auth emulator; `make test` starts it and sets it (by hand: `bash scripts/services.sh firebase-emulator-start` " +
			"and export FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099)")
	}
	return &emulator{host: host}
}

// signIn signs email/password up (first call) or in, and returns the user's uid and ID token.
func (e *emulator) signIn(t *testing.T, email, password string, signUp bool) (uid, idToken string) {
	t.Helper()
	path := "accounts:signInWithPassword"
	if signUp {
		path = "accounts:signUp"
	}
	b, _ := json.Marshal(map[string]any{"email": email, "password": password, "returnSecureToken": true})
	resp, err := http.Post("http://"+e.host+"/identitytoolkit.googleapis.com/v1/"+path+"?key=fake-api-key", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Firebase emulator %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out struct {
		LocalID string `json:"localId"`
		IDToken string `json:"idToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.IDToken == "" {
		t.Fatalf("Firebase emulator %s: status %d, %v", path, resp.StatusCode, err)
	}
	return out.LocalID, out.IDToken
}
