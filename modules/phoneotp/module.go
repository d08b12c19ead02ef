// Package phoneotp is the consumer login lane by SMS one-time code: POST /auth/login/phone sends
// a 6-digit code through the configured SMS provider (log, webhook or Twilio), and
// POST /auth/login/phone/verify exchanges it for a consumer session.
package phoneotp

import (
	_ "embed"

	"github.com/spf13/viper"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:             "phone_otp",
	EnabledByDefault: true,
	Defaults:         Defaults,
	Validate:         Validate,
	Module: fx.Module("phone_otp",
		core.OpenAPI("phone_otp", fragment),
		fx.Provide(fx.Private, loadConfig, NewSender, NewService),
		core.Routes(NewRoutes),
	),
}

func loadConfig(v *viper.Viper) (Config, SMSConfig, error) { return LoadConfig(v) }
