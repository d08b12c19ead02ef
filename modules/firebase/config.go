package firebase

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
)

// EmulatorHostEnv is the variable that switches the Admin SDK to the Auth emulator, which issues
// unsigned tokens that the SDK then accepts without checking any signature.
const EmulatorHostEnv = "FIREBASE_AUTH_EMULATOR_HOST"

// Config is the module's section, modules.firebase.*.
type Config struct {
	ProjectID string `mapstructure:"project_id"` // required: the audience ID tokens must carry
	// CredentialsFile is a service-account JSON file. Only check_revoked needs credentials
	// (it reads the user from Firebase); "" with check_revoked uses Application Default
	// Credentials, and without it no credentials at all (signatures are checked against
	// Google's public certificates).
	CredentialsFile string `mapstructure:"credentials_file"`
	// CheckRevoked also asks Firebase whether the token was revoked or the user disabled: one
	// call per login, default false.
	CheckRevoked bool `mapstructure:"check_revoked"`
	// AllowEmulator lets the service start while FIREBASE_AUTH_EMULATOR_HOST is set. Tests and
	// development only: the emulator's tokens are not signed. Default false.
	AllowEmulator bool `mapstructure:"allow_emulator"`
	// Timeout bounds one verification (certificate fetch, revocation check), default 10s.
	Timeout time.Duration `mapstructure:"timeout"`
}

// Defaults are the keys this module owns, relative to its section.
var Defaults = config.Defaults{
	"project_id":       "",
	"credentials_file": "",
	"check_revoked":    false,
	"allow_emulator":   false,
	"timeout":          "10s",
}

// Legacy is the section's old, top-level name, read with a warning until the next major
// version.
var Legacy = []config.Rename{{Old: "firebase", New: ""}}

// Section is the module's typed configuration.
var Section = core.NewSection(core.SectionSpec[Config]{Defaults: Defaults, Legacy: Legacy, Validate: (*Config).validate})

// validate reports every problem at once.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.ProjectID == "" {
		bad("project_id: required when the firebase module is enabled")
	}
	if c.CredentialsFile != "" {
		if f, err := os.Open(c.CredentialsFile); err != nil {
			bad("credentials_file: %v", err)
		} else {
			f.Close()
		}
	}
	if c.Timeout <= 0 || c.Timeout > time.Minute {
		bad("timeout: must be between 1ms and 1m, got %s", c.Timeout)
	}
	if host := os.Getenv(EmulatorHostEnv); host != "" && !c.AllowEmulator {
		bad("allow_emulator: %s is set (%s): the Firebase Auth emulator issues unsigned tokens that anyone can forge; "+
			"unset it, or set modules.firebase.allow_emulator: true for development and tests only", EmulatorHostEnv, host)
	}
	return errors.Join(errs...)
}
