// Package phoneotp is the consumer login lane by SMS one-time code: POST /auth/login/phone sends
// a 6-digit code through the configured SMS provider (log, webhook or Twilio), and
// POST /auth/login/phone/verify exchanges it for a consumer session.
package phoneotp

import (
	_ "embed"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:             "phone_otp",
	EnabledByDefault: true,
	Config:           Section,
	Module: fx.Module("phone_otp",
		core.OpenAPI("phone_otp", fragment),
		fx.Provide(fx.Private, splitSettings, NewSender, NewService),
		core.Routes(NewRoutes),
		metrics.LoginLane(lane),
		metrics.Dependency("sms"),
	),
}

// splitSettings gives the service and the sender each its part of the section.
func splitSettings(s Settings) (Config, SMSConfig) { return s.Config, s.SMS }
