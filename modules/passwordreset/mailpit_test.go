package passwordreset_test

import (
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

const linkPrefix = "https://admin.cashless.test/reset?token="

// mailpit is testkit's Mailpit client with this module's link template and recipient domain.
type mailpit struct{ *testkit.Mailpit }

func newMailpit(t *testing.T) *mailpit { return &mailpit{testkit.NewMailpit(t)} }

// config makes the service send through Mailpit, with reset links under linkPrefix.
func (m *mailpit) config(t *testing.T) map[string]any {
	c := m.Config(t)
	c["modules.password_reset.url_template"] = linkPrefix + "{token}"
	return c
}

func (m *mailpit) recipient(t *testing.T, label string) string {
	return m.Recipient(t, label, "reset.cashless.test")
}

func (m *mailpit) search(t *testing.T, to string) []testkit.MailSummary { return m.Search(t, to) }

func (m *mailpit) wait(t *testing.T, to string, n int) []testkit.Mail { return m.Wait(t, to, n) }

// token extracts the reset token from a mail's link.
func token(t *testing.T, msg testkit.Mail) string { return testkit.LinkToken(t, msg, linkPrefix) }
