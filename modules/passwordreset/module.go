// Package passwordreset lets an admin who forgot their password set a new one through a link
// sent by e-mail (POST /admin/password-reset/email-send, POST /admin/password-reset/{token}).
package passwordreset

import (
	_ "embed"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

//go:embed openapi.json
var fragment []byte

// Config is the module's section, modules.password_reset.*: the reset tokens' settings, and
// under mail how mails leave the service.
type Config struct {
	Mail  MailConfig  `mapstructure:"mail"`
	Reset ResetConfig `mapstructure:",squash"`
}

// MailConfig selects how mails leave the service.
type MailConfig struct {
	Provider string     `mapstructure:"provider"` // "log" (default: logs that a mail would be sent) or "smtp"
	From     string     `mapstructure:"from"`     // sender address, RFC 5322 ("Name <addr>" or "addr")
	SMTP     SMTPConfig `mapstructure:"smtp"`
}

// SMTPConfig is the SMTP relay used when mail.provider is smtp.
type SMTPConfig struct {
	Host     string `mapstructure:"host"`     // required with provider smtp
	Port     int    `mapstructure:"port"`     // default 587
	Username string `mapstructure:"username"` // authenticate when set
	Password string `mapstructure:"password"`
	TLS      string `mapstructure:"tls"` // none | starttls (default, mandatory) | tls (implicit, usually port 465)
}

// ResetConfig shapes reset tokens and their links.
type ResetConfig struct {
	URLTemplate  string        `mapstructure:"url_template"`   // link mailed to the admin; {token} is replaced by the token
	TTL          time.Duration `mapstructure:"ttl"`            // token lifetime, default 30m
	QuotaPerHour int           `mapstructure:"quota_per_hour"` // requests per submitted address per hour (so mails per admin), default 3
}

// Mail providers and SMTP TLS modes.
const (
	ProviderLog  = "log"
	ProviderSMTP = "smtp"

	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Defaults are the module's keys, relative to its section.
var Defaults = config.Defaults{
	"mail.provider":      ProviderLog,
	"mail.from":          "cashless-auth <no-reply@localhost>",
	"mail.smtp.host":     "",
	"mail.smtp.port":     587,
	"mail.smtp.username": "",
	"mail.smtp.password": "",
	"mail.smtp.tls":      TLSStartTLS,
	"url_template":       "http://localhost:8080/reset-password?token={token}",
	"ttl":                "30m",
	"quota_per_hour":     3,
}

// Legacy are the section's old, top-level names, read with a warning until the next major
// version.
var Legacy = []config.Rename{{Old: "mail", New: "mail"}, {Old: "reset", New: ""}}

// Section is the module's typed configuration.
var Section = core.NewSection(core.SectionSpec[Config]{Defaults: Defaults, Legacy: Legacy, Validate: (*Config).validate})

// validate reports every problem at once.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch c.Mail.Provider {
	case ProviderLog:
	case ProviderSMTP:
		if strings.TrimSpace(c.Mail.SMTP.Host) == "" {
			bad("mail.smtp.host: required with mail.provider smtp")
		}
	default:
		bad("mail.provider: must be log or smtp, got %q", c.Mail.Provider)
	}
	if _, err := mail.ParseAddress(c.Mail.From); err != nil {
		bad("mail.from: not an e-mail address (%v)", err)
	}
	if c.Mail.SMTP.Port < 1 || c.Mail.SMTP.Port > 65535 {
		bad("mail.smtp.port: must be 1–65535, got %d", c.Mail.SMTP.Port)
	}
	switch c.Mail.SMTP.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		bad("mail.smtp.tls: must be none, starttls or tls, got %q", c.Mail.SMTP.TLS)
	}
	if !strings.Contains(c.Reset.URLTemplate, "{token}") {
		bad("url_template: must contain {token}")
	}
	if c.Reset.TTL <= 0 {
		bad("ttl: must be a positive duration such as 30m")
	}
	if c.Reset.QuotaPerHour < 1 {
		bad("quota_per_hour: must be at least 1, got %d", c.Reset.QuotaPerHour)
	}
	return errors.Join(errs...)
}

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:             "password_reset",
	EnabledByDefault: true,
	Config:           Section,
	Migrations:       Migrations,
	Module: fx.Module("password_reset",
		core.OpenAPI("password_reset", fragment),
		fx.Provide(NewMailer, NewService),
		fx.Provide(NewResets, fx.Private),
		core.Routes(NewRoutes),
		metrics.Dependency("mail"),
	),
}
