// Package mfa is TOTP multi-factor authentication for admins: enrolment (POST /admin/mfa/setup),
// verification that reissues a session carrying mfa_verified_at (POST /admin/mfa/verify), and a
// probe of the core's freshness guard (GET /admin/sensitive/ping).
package mfa

import (
	_ "embed"
	"errors"
	"strings"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

//go:embed openapi.json
var fragment []byte

// Config is the module's section, modules.mfa.*. How fresh a verification must be
// (mfa.freshness) stays the core's: its guard enforces it on any module's routes.
type Config struct {
	// Issuer is shown by authenticator apps, default "cashless-auth".
	Issuer string `mapstructure:"issuer"`
}

// Section is the module's typed configuration. Until the next major version mfa.issuer,
// its old name in the section it shared with the core, is read too.
var Section = core.NewSection(core.SectionSpec[Config]{
	Defaults: config.Defaults{"issuer": "cashless-auth"},
	Legacy:   []config.Rename{{Old: "mfa.issuer", New: "issuer"}},
	Validate: (*Config).validate,
})

func (c *Config) validate() error {
	c.Issuer = strings.TrimSpace(c.Issuer)
	if c.Issuer == "" {
		return errors.New("issuer: must not be empty")
	}
	// The otpauth label is "issuer:account"; a colon in the issuer would split it wrongly.
	if strings.Contains(c.Issuer, ":") {
		return errors.New("issuer: must not contain ':'")
	}
	return nil
}

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:             "mfa",
	EnabledByDefault: true,
	Migrations:       migrations,
	Config:           Section,
	Module: fx.Module("mfa",
		core.OpenAPI("mfa", fragment),
		fx.Provide(NewFactors, secondFactors),
		fx.Provide(NewService),
		core.Routes(NewRoutes),
		metrics.LoginLane("mfa"),
	),
}
