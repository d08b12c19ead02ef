package phoneotp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/spf13/viper"

	"github.com/cashlessmedia/cashless-auth/config"
)

// Config is the phone_otp section.
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

// SMSConfig is the sms section: which provider delivers the codes.
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

// Defaults are the keys this module owns.
var Defaults = config.Defaults{
	"phone_otp.default_region":    "",
	"phone_otp.code_ttl":          "5m",
	"phone_otp.max_attempts":      5,
	"phone_otp.sends_per_hour":    5,
	"phone_otp.failures_per_hour": 10,
	"sms.provider":                "log",
	"sms.timeout":                 "10s",
	"sms.log.reveal_code":         false,
	"sms.webhook.url":             "",
	"sms.webhook.secret":          "",
	"sms.twilio.account_sid":      "",
	"sms.twilio.auth_token":       "",
	"sms.twilio.from":             "",
	"sms.twilio.base_url":         "https://api.twilio.com",
}

// LoadConfig decodes and checks both sections, reporting every problem at once.
func LoadConfig(v *viper.Viper) (Config, SMSConfig, error) {
	var c Config
	var s SMSConfig
	errs := []error{config.Decode(v, "phone_otp", &c), config.Decode(v, "sms", &s)}
	if errs[0] == nil && errs[1] == nil {
		errs = append(errs, c.validate()...)
		errs = append(errs, s.validate()...)
	}
	return c, s, errors.Join(errs...)
}

// Validate is the plugin's start-time check.
func Validate(v *viper.Viper) error {
	_, _, err := LoadConfig(v)
	return err
}

func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c.DefaultRegion = strings.ToUpper(strings.TrimSpace(c.DefaultRegion))
	if c.DefaultRegion != "" && !phonenumbers.GetSupportedRegions()[c.DefaultRegion] {
		bad("phone_otp.default_region: %q is not a region code such as US or FR (empty = international numbers only)", c.DefaultRegion)
	}
	if c.CodeTTL < time.Second || c.CodeTTL > time.Hour {
		bad("phone_otp.code_ttl: must be between 1s and 1h, got %s", c.CodeTTL)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 10 {
		bad("phone_otp.max_attempts: must be between 1 and 10, got %d", c.MaxAttempts)
	}
	if c.SendsPerHour < 1 {
		bad("phone_otp.sends_per_hour: must be at least 1, got %d", c.SendsPerHour)
	}
	if c.FailuresPerHour < 1 {
		bad("phone_otp.failures_per_hour: must be at least 1, got %d", c.FailuresPerHour)
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
			bad("sms.twilio: account_sid, auth_token and from are required with sms.provider: twilio")
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
