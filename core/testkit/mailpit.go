package testkit

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
// (make test does it); without it mail tests fail, unless CASHLESS_AUTH_TEST_MAILPIT=off.
const (
	EnvMailpit    = "CASHLESS_AUTH_TEST_MAILPIT"
	EnvSMTPAddr   = "CASHLESS_AUTH_TEST_SMTP_ADDR"
	EnvMailpitURL = "CASHLESS_AUTH_TEST_MAILPIT_URL"
)

// Mailpit reads what the service sent, through Mailpit's HTTP API: the real SMTP path, end to end.
type Mailpit struct {
	API  string // http://127.0.0.1:8025
	SMTP string // 127.0.0.1:1025
	http *http.Client
}

// NewMailpit checks that Mailpit answers and fails the test with what to do otherwise; it skips
// under -short and when CASHLESS_AUTH_TEST_MAILPIT=off.
func NewMailpit(t testing.TB) *Mailpit {
	t.Helper()
	if os.Getenv(EnvMailpit) == "off" {
		t.Skipf("%s=off: mail tests skipped", EnvMailpit)
	}
	if testing.Short() {
		t.Skipf("-short: this test needs Mailpit (%s, default http://127.0.0.1:8025); `make test` runs it", EnvMailpitURL)
	}
	m := &Mailpit{
		API:  strings.TrimRight(getenv(EnvMailpitURL, "http://127.0.0.1:8025"), "/"),
		SMTP: getenv(EnvSMTPAddr, "127.0.0.1:1025"),
		http: &http.Client{Timeout: 5 * time.Second},
	}
	resp, err := m.http.Get(m.API + "/api/v1/info")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	if err != nil {
		t.Fatalf("Mailpit is not reachable at %s (%v): start it with `bash scripts/services.sh mailpit-start` "+
			"(make test does), point %s/%s at yours, or set %s=off to skip the mail tests", m.API, err, EnvMailpitURL, EnvSMTPAddr, EnvMailpit)
	}
	return m
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// HostPort splits the SMTP address.
func (m *Mailpit) HostPort(t testing.TB) (host, port string) {
	t.Helper()
	host, port, err := net.SplitHostPort(m.SMTP)
	if err != nil {
		t.Fatalf("%s=%q: %v", EnvSMTPAddr, m.SMTP, err)
	}
	return host, port
}

// Config makes the service send through Mailpit, from no-reply@cashless.test.
func (m *Mailpit) Config(t testing.TB) map[string]any {
	t.Helper()
	host, port := m.HostPort(t)
	return map[string]any{
		"modules.password_reset.mail.provider":  "smtp",
		"modules.password_reset.mail.from":      "Cashless Auth <no-reply@cashless.test>",
		"modules.password_reset.mail.smtp.host": host,
		"modules.password_reset.mail.smtp.port": port,
		"modules.password_reset.mail.smtp.tls":  "none",
	}
}

// Recipient is a lower-case address label-<random>@domain that no other test (or parallel
// package) uses; its mails are deleted when the test ends.
func (m *Mailpit) Recipient(t testing.TB, label, domain string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	addr := fmt.Sprintf("%s-%s@%s", label, hex.EncodeToString(b), domain)
	t.Cleanup(func() { m.Forget(addr) })
	return addr
}

// Forget deletes the mails to addr.
func (m *Mailpit) Forget(addr string) {
	req, _ := http.NewRequest(http.MethodDelete, m.API+"/api/v1/search?query="+url.QueryEscape("to:"+addr), nil)
	if resp, err := m.http.Do(req); err == nil {
		resp.Body.Close()
	}
}

// MailSummary is a search result.
type MailSummary struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	To      []struct{ Name, Address string }
}

// Mail is one received message.
type Mail struct {
	From    struct{ Name, Address string } `json:"From"`
	To      []struct{ Name, Address string }
	Subject string `json:"Subject"`
	Text    string `json:"Text"`
}

// Search lists the mails to `to`, newest first (Mailpit's order). Mailpit's to: search matches
// substrings; only messages addressed to exactly `to` (any case) are returned.
func (m *Mailpit) Search(t testing.TB, to string) []MailSummary {
	t.Helper()
	resp, err := m.http.Get(m.API + "/api/v1/search?query=" + url.QueryEscape("to:"+to))
	if err != nil {
		t.Fatalf("mailpit search: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Messages []MailSummary `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("mailpit search: %v", err)
	}
	var exact []MailSummary
	for _, msg := range out.Messages {
		for _, r := range msg.To {
			if strings.EqualFold(r.Address, to) {
				exact = append(exact, msg)
				break
			}
		}
	}
	return exact
}

// Wait returns the mails to `to` once there are n of them, oldest first; the deadline only
// bounds a failing test.
func (m *Mailpit) Wait(t testing.TB, to string, n int) []Mail {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		found := m.Search(t, to)
		if len(found) >= n {
			out := make([]Mail, 0, len(found))
			for i := len(found) - 1; i >= 0; i-- {
				out = append(out, m.Message(t, found[i].ID))
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d mail(s) to %s, want %d", len(found), to, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Message fetches one mail.
func (m *Mailpit) Message(t testing.TB, id string) Mail {
	t.Helper()
	resp, err := m.http.Get(m.API + "/api/v1/message/" + url.PathEscape(id))
	if err != nil {
		t.Fatalf("mailpit message: %v", err)
	}
	defer resp.Body.Close()
	var msg Mail
	if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
		t.Fatalf("mailpit message: %v", err)
	}
	return msg
}

// LinkToken extracts the token (URL-safe base64 characters) that follows linkPrefix in a mail.
func LinkToken(t testing.TB, msg Mail, linkPrefix string) string {
	t.Helper()
	_, rest, ok := strings.Cut(msg.Text, linkPrefix)
	if !ok {
		t.Fatalf("no link %s… in the mail: %q", linkPrefix, msg.Text)
	}
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
	if end < 0 {
		end = len(rest)
	}
	return rest[:end]
}
