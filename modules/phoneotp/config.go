package phoneotp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/nyaruka/phonenumbers"
)

// Settings is the module's section, modules.phone_otp.*: the codes' settings, and under sms
// which provider delivers them.
type Settings struct {
	Config `mapstructure:",squash"`
	SMS    SMSConfig `mapstructure:"sms"`
}

// Config is the settings of the codes.
type Config struct {
	// DefaultRegion (ISO 3166-1 alpha-2, e.g. "FR") is assumed for numbers written without a
	// "+<country code>". Default "": numbers must be international, so a national number is
	// never guessed into another country's (and another person's) number.
	DefaultRegion string `mapstructure:"default_region"`
	// CodeTTL is how long a code stays usable, default 5m.
	CodeTTL time.Duration `mapstructure:"code_ttl"`
	// MaxAttempts is the number of wrong tries after which a code is void, default 5.
	MaxAttempts int `mapstructure:"max_attempts"`
	// SendsPerHour caps the codes sent to one number per hour, whatever the client IP, default 5.
	SendsPerHour int `mapstructure:"sends_per_hour"`
	// FailuresPerHour caps wrong codes per number per hour (across codes and IPs), default 10;
	// past it, both routes answer 429 for that number until the hour is over.
	FailuresPerHour int `mapstructure:"failures_per_hour"`
}

// SMSConfig is the sms part of the section: which provider delivers the codes.
type SMSConfig struct {
	Provider string        `mapstructure:"provider"` // log | webhook | twilio, default log
	Timeout  time.Duration `mapstructure:"timeout"`  // per SMS request, default 10s
	Log      struct {
		// RevealCode writes the code itself to the log (warn level): development only.
		RevealCode bool `mapstructure:"reveal_code"`
	} `mapstructure:"log"`
	Webhook struct {
		URL    string `mapstructure:"url"`    // receives POST {"to","body","code"}
		Secret string `mapstructure:"secret"` // sent as "Authorization: Bearer <secret>" when set
	} `mapstructure:"webhook"`
	Twilio struct {
		AccountSID string `mapstructure:"account_sid"`
		AuthToken  string `mapstructure:"auth_token"`
		From       string `mapstructure:"from"`     // E.164 sender number, or a Messaging Service SID (MG…)
		BaseURL    string `mapstructure:"base_url"` // default https://api.twilio.com
	} `mapstructure:"twilio"`
}

// Defaults are the keys this module owns, relative to its section.
var Defaults = config.Defaults{
	"default_region":         "",
	"code_ttl":               "5m",
	"max_attempts":           5,
	"sends_per_hour":         5,
	"failures_per_hour":      10,
	"sms.provider":           "log",
	"sms.timeout":            "10s",
	"sms.log.reveal_code":    false,
	"sms.webhook.url":        "",
	"sms.webhook.secret":     "",
	"sms.twilio.account_sid": "",
	"sms.twilio.auth_token":  "",
	"sms.twilio.from":        "",
	"sms.twilio.base_url":    "https://api.twilio.com",
}

// Legacy are the section's old, top-level names, read with a warning until the next major
// version.
var Legacy = []config.Rename{{Old: "phone_otp", New: ""}, {Old: "sms", New: "sms"}}

// Section is the module's typed configuration.
var Section = core.NewSection(core.SectionSpec[Settings]{Defaults: Defaults, Legacy: Legacy, Validate: (*Settings).validate})

// validate reports every problem of both parts at once.
func (s *Settings) validate() error {
	return errors.Join(append(s.Config.validate(), s.SMS.validate()...)...)
}

func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c.DefaultRegion = strings.ToUpper(strings.TrimSpace(c.DefaultRegion))
	if c.DefaultRegion != "" && !phonenumbers.GetSupportedRegions()[c.DefaultRegion] {
		bad("default_region: %q is not a region code such as US or FR (empty = international numbers only)", c.DefaultRegion)
	}
	if c.CodeTTL < time.Second || c.CodeTTL > time.Hour {
		bad("code_ttl: must be between 1s and 1h, got %s", c.CodeTTL)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 10 {
		bad("max_attempts: must be between 1 and 10, got %d", c.MaxAttempts)
	}
	if c.SendsPerHour < 1 {
		bad("sends_per_hour: must be at least 1, got %d", c.SendsPerHour)
	}
	if c.FailuresPerHour < 1 {
		bad("failures_per_hour: must be at least 1, got %d", c.FailuresPerHour)
	}
	return errs
}

func (s *SMSConfig) validate() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.Timeout <= 0 || s.Timeout > time.Minute {
		bad("sms.timeout: must be between 1ms and 1m, got %s", s.Timeout)
	}
	switch s.Provider {
	case "log":
	case "webhook":
		if err := checkURL(s.Webhook.URL); err != nil {
			bad("sms.webhook.url: %v", err)
		}
	case "twilio":
		if s.Twilio.AccountSID == "" || s.Twilio.AuthToken == "" || s.Twilio.From == "" {
			bad("sms.twilio: account_sid, auth_token and from are required with modules.phone_otp.sms.provider: twilio")
		}
		if err := checkURL(s.Twilio.BaseURL); err != nil {
			bad("sms.twilio.base_url: %v", err)
		}
	default:
		bad("sms.provider: must be log, webhook or twilio, got %q", s.Provider)
	}
	return errs
}

func checkURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}
