// Package mfa is TOTP multi-factor authentication for admins: enrolment (POST /admin/mfa/setup),
// verification that reissues a session carrying mfa_verified_at (POST /admin/mfa/verify), and a
// probe of the core's freshness guard (GET /admin/sensitive/ping).
package mfa

import (
	_ "embed"
	"errors"
	"strings"

	"github.com/spf13/viper"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Config is the module's part of the shared mfa section; mfa.freshness belongs to the core,
// whose guard enforces it.
type Config struct {
	Issuer string // mfa.issuer: issuer shown by authenticator apps, default "cashless-auth"
}

// LoadConfig reads the module's keys. The mfa section is shared with the core, so the keys are
// read one by one instead of decoding the section strictly.
func LoadConfig(v *viper.Viper) (Config, error) {
	c := Config{Issuer: strings.TrimSpace(v.GetString("mfa.issuer"))}
	if c.Issuer == "" {
		return c, errors.New("mfa.issuer: must not be empty")
	}
	// The otpauth label is "issuer:account"; a colon in the issuer would split it wrongly.
	if strings.Contains(c.Issuer, ":") {
		return c, errors.New("mfa.issuer: must not contain ':'")
	}
	return c, nil
}

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:             "mfa",
	EnabledByDefault: true,
	Defaults:         config.Defaults{"mfa.issuer": "cashless-auth"},
	Validate: func(v *viper.Viper) error {
		_, err := LoadConfig(v)
		return err
	},
	Module: fx.Module("mfa",
		core.OpenAPI("mfa", fragment),
		fx.Provide(LoadConfig, NewService),
		core.Routes(NewRoutes),
	),
}
