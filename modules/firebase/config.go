package firebase

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/viper"

	"github.com/cashlessmedia/cashless-auth/config"
)

// EmulatorHostEnv is the variable that switches the Admin SDK to the Auth emulator, which issues
// unsigned tokens that the SDK then accepts without checking any signature.
const EmulatorHostEnv = "FIREBASE_AUTH_EMULATOR_HOST"

// Config is the firebase section.
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

// Defaults are the keys this module owns.
var Defaults = config.Defaults{
	"firebase.project_id":       "",
	"firebase.credentials_file": "",
	"firebase.check_revoked":    false,
	"firebase.allow_emulator":   false,
	"firebase.timeout":          "10s",
}

// LoadConfig decodes and checks the section, reporting every problem at once.
func LoadConfig(v *viper.Viper) (Config, error) {
	var c Config
	if err := config.Decode(v, "firebase", &c); err != nil {
		return c, err
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.ProjectID == "" {
		bad("firebase.project_id: required when the firebase module is enabled")
	}
	if c.CredentialsFile != "" {
		if f, err := os.Open(c.CredentialsFile); err != nil {
			bad("firebase.credentials_file: %v", err)
		} else {
			f.Close()
		}
	}
	if c.Timeout <= 0 || c.Timeout > time.Minute {
		bad("firebase.timeout: must be between 1ms and 1m, got %s", c.Timeout)
	}
	if host := os.Getenv(EmulatorHostEnv); host != "" && !c.AllowEmulator {
		bad("%s is set (%s): the Firebase Auth emulator issues unsigned tokens that anyone can forge; "+
			"unset it, or set firebase.allow_emulator: true for development and tests only", EmulatorHostEnv, host)
	}
	return c, errors.Join(errs...)
}

// Validate is the plugin's start-time check.
func Validate(v *viper.Viper) error {
	_, err := LoadConfig(v)
	return err
}
