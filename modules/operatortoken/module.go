// Package operatortoken ports the legacy mobile operator login (POST /devices/operator-token):
// an operator signs in on an mPOS, Fastpass, Dispatch, Report or Kids device and receives the
// persistent session token of the legacy platform, which POST /tokens/verify accepts.
//
// Choices the contract leaves open:
//   - Only accounts with the operator role sign in here; admins and network managers get the
//     same 401 as a wrong password (the legacy matrix is about operator modes).
//   - The token is "ost_" + 256 random bits, stored as its SHA-256 (for lookup) and sealed with
//     AES-GCM (to be returned again). It changes only when cleared (users revoke-session), or
//     when the stored copy can no longer be opened (encryption key replaced).
//   - The user row keeps no device type; since each mode allows exactly one, /tokens/verify
//     reports the one the operator's mode allows.
package operatortoken

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
	Name:             "operator_token",
	EnabledByDefault: true,
	Module: fx.Module("operator_token",
		core.OpenAPI("operator_token", fragment),
		fx.Provide(NewService),
		core.Routes(NewRoutes),
		metrics.LoginLane("operator_token"),
		core.AccountLockLane("operator_token"),
		core.TokenVerifier(NewVerifier),
	),
}
