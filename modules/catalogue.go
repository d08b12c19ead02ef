// Package modules is the catalogue: the one place that names every lane and feature. Adding a
// login provider is one folder under modules/ and one line here.
package modules

import (
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/modules/apidocs"
	"github.com/cashlessmedia/cashless-auth/modules/apikeys"
	"github.com/cashlessmedia/cashless-auth/modules/device"
	"github.com/cashlessmedia/cashless-auth/modules/firebase"
	"github.com/cashlessmedia/cashless-auth/modules/forwardauth"
	"github.com/cashlessmedia/cashless-auth/modules/mfa"
	"github.com/cashlessmedia/cashless-auth/modules/offline"
	"github.com/cashlessmedia/cashless-auth/modules/oidc"
	"github.com/cashlessmedia/cashless-auth/modules/operatortoken"
	"github.com/cashlessmedia/cashless-auth/modules/password"
	"github.com/cashlessmedia/cashless-auth/modules/passwordreset"
	"github.com/cashlessmedia/cashless-auth/modules/phoneotp"
	"github.com/cashlessmedia/cashless-auth/modules/session"
	"github.com/cashlessmedia/cashless-auth/modules/system"
)

// All lists every module compiled into this binary; configuration decides which run.
func All() []core.Plugin {
	return []core.Plugin{
		system.Plugin,
		session.Plugin,
		password.Plugin,
		phoneotp.Plugin,
		firebase.Plugin,
		oidc.Plugin,
		mfa.Plugin,
		passwordreset.Plugin,
		apikeys.Plugin,
		offline.Plugin,
		device.Plugin,
		operatortoken.Plugin,
		forwardauth.Plugin,
		apidocs.Plugin,
	}
}
