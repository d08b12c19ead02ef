package passwordreset_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// Environment of the mail tests. Mailpit is started by `scripts/services.sh mailpit-start`
// (make test does it); without it these tests fail, unless CASHLESS_AUTH_TEST_MAILPIT=off.
const (
	envMailpit    = "CASHLESS_AUTH_TEST_MAILPIT"
	envSMTPAddr   = "CASHLESS_AUTH_TEST_SMTP_ADDR"
	envMailpitURL = "CASHLESS_AUTH_TEST_MAILPIT_URL"
)

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// mailpit reads what the service sent through Mailpit's HTTP API.
type mailpit struct {
	api  string
	smtp string
	http *http.Client
}

// newMailpit checks that Mailpit answers; it fails the test with instructions otherwise.
// Under -short (make test-short, no services) it skips without contacting Mailpit.
func newMailpit(t *testing.T) *mailpit {
	t.Helper()
	if os.Getenv(envMailpit) == "off" {
		t.Skipf("%s=off: mail tests skipped", envMailpit)
	}
	if testing.Short() {
		t.Skipf("-short: skipped, this test needs Mailpit (%s, default http://127.0.0.1:8025; %s, default 127.0.0.1:1025); "+
			"`make test` runs it", envMailpitURL, envSMTPAddr)
	}
	m := &mailpit{
		api:  strings.TrimRight(getenv(envMailpitURL, "http://127.0.0.1:8025"), "/"),
		smtp: getenv(envSMTPAddr, "127.0.0.1:1025"),
		http: &http.Client{Timeout: 5 * time.Second},
	}
	resp, err := m.http.Get(m.api + "/api/v1/info")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	if err != nil {
		t.Fatalf("Mailpit is not reachable at %s (%v): start it with `bash scripts/services.sh mailpit-start` "+
			"(make test does), point %s/%s at yours, or set %s=off to skip the mail tests", m.api, err, envMailpitURL, envSMTPAddr, envMailpit)
	}
	return m
}

// config makes the service send through Mailpit.
func (m *mailpit) config(t *testing.T) map[string]any {
	t.Helper()
	host, port, err := net.SplitHostPort(m.smtp)
	if err != nil {
		t.Fatalf("%s=%q: %v", envSMTPAddr, m.smtp, err)
	}
	return map[string]any{
		"mail.provider":      "smtp",
		"mail.from":          "Cashless Auth <no-reply@cashless.test>",
		"mail.smtp.host":     host,
		"mail.smtp.port":     port,
		"mail.smtp.tls":      "none",
		"reset.url_template": linkPrefix + "{token}",
	}
}

const linkPrefix = "https://admin.cashless.test/reset?token="

// recipient is an address no other test (or parallel package) uses; its mails are deleted
// when the test ends.
func (m *mailpit) recipient(t *testing.T, label string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	addr := fmt.Sprintf("%s-%s@reset.cashless.test", label, hex.EncodeToString(b))
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, m.api+"/api/v1/search?query="+url.QueryEscape("to:"+addr), nil)
		if resp, err := m.http.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return addr
}

type summary struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
}

type message struct {
	From    struct{ Name, Address string } `json:"From"`
	To      []struct{ Name, Address string }
	Subject string `json:"Subject"`
	Text    string `json:"Text"`
}

func (m *mailpit) search(t *testing.T, to string) []summary {
	t.Helper()
	resp, err := m.http.Get(m.api + "/api/v1/search?query=" + url.QueryEscape("to:"+to))
	if err != nil {
		t.Fatalf("mailpit search: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Messages []summary `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("mailpit search: %v", err)
	}
	return out.Messages
}

// wait returns the messages to `to` once there are n of them (oldest first); the deadline only
// bounds a failing test.
func (m *mailpit) wait(t *testing.T, to string, n int) []message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		found := m.search(t, to)
		if len(found) >= n {
			out := make([]message, 0, len(found))
			for i := len(found) - 1; i >= 0; i-- { // the API lists newest first
				out = append(out, m.message(t, found[i].ID))
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d mail(s) to %s, want %d", len(found), to, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *mailpit) message(t *testing.T, id string) message {
	t.Helper()
	resp, err := m.http.Get(m.api + "/api/v1/message/" + url.PathEscape(id))
	if err != nil {
		t.Fatalf("mailpit message: %v", err)
	}
	defer resp.Body.Close()
	var msg message
	if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
		t.Fatalf("mailpit message: %v", err)
	}
	return msg
}

// token extracts the reset token from a mail's link.
func token(t *testing.T, msg message) string {
	t.Helper()
	_, rest, ok := strings.Cut(msg.Text, linkPrefix)
	if !ok {
		t.Fatalf("no reset link in mail: %q", msg.Text)
	}
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
	if end < 0 {
		end = len(rest)
	}
	return rest[:end]
}
