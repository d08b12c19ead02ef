package guest

import (
	"errors"
	"fmt"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
)

// Config is the module's section, modules.guest.*.
type Config struct {
	// Issuer names the wristband system in the consumer's identities: (issuer, code).
	Issuer string `mapstructure:"issuer"`
	// MaxVisits is how many sign-ins one wristband gets (default 3).
	MaxVisits int `mapstructure:"max_visits"`
}

// Section declares the keys, their defaults and the check run before start.
var Section = core.NewSection(core.SectionSpec[Config]{
	Defaults: config.Defaults{"issuer": "urn:example:wristband", "max_visits": 3},
	Validate: func(c *Config) error {
		var errs []error
		if c.Issuer == "" {
			errs = append(errs, errors.New("issuer: required"))
		}
		if c.MaxVisits < 1 || c.MaxVisits > 100 {
			errs = append(errs, fmt.Errorf("max_visits: must be between 1 and 100, got %d", c.MaxVisits))
		}
		return errors.Join(errs...)
	},
})
