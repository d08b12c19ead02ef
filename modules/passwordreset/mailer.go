package passwordreset

import (
	"context"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"go.uber.org/zap"
)

// Message is one plain-text mail.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends mails. Implementations must never log a message's body: it holds a secret link.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// NewMailer builds the configured provider.
func NewMailer(cfg Config, log *zap.Logger) Mailer {
	if cfg.Mail.Provider == ProviderSMTP {
		return &SMTPMailer{cfg: cfg.Mail}
	}
	return &LogMailer{log: log.Named("mail")}
}

// LogMailer is the embedded default: it delivers nothing and logs that a mail would have been
// sent, to a redacted address, without the body.
type LogMailer struct{ log *zap.Logger }

// Send logs the mail's envelope.
func (l *LogMailer) Send(_ context.Context, m Message) error {
	l.log.Warn("mail not delivered (mail.provider is log); configure mail.provider smtp to send it",
		zap.String("to", Redact(m.To)), zap.String("subject", m.Subject))
	return nil
}

// SMTPMailer sends through an SMTP relay with go-mail. A client is built per message, so
// concurrent sends never share a connection.
type SMTPMailer struct{ cfg MailConfig }

// smtpTimeout bounds one delivery (connect and dialogue).
const smtpTimeout = 15 * time.Second

// Send delivers m.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)

	opts := []gomail.Option{gomail.WithPort(s.cfg.SMTP.Port), gomail.WithTimeout(smtpTimeout)}
	switch s.cfg.SMTP.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.SMTP.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers, and refuses to send
		// PLAIN/LOGIN credentials over an unencrypted connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.SMTP.Username), gomail.WithPassword(s.cfg.SMTP.Password))
	}
	c, err := gomail.NewClient(s.cfg.SMTP.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send via %s:%d: %w", s.cfg.SMTP.Host, s.cfg.SMTP.Port, err)
	}
	return nil
}

// Redact keeps enough of an address to recognise it in logs: "a***@example.com".
func Redact(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	return local[:1] + "***@" + domain
}
