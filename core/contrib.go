package core

import (
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/verify"
)

// Routes registers a constructor of a module's routes; its parameters are injected by fx.
func Routes(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.ResultTags(`group:"routes,flatten"`)))
}

// OpenAPI registers a module's OpenAPI fragment (paths and schemas copied from the contract).
func OpenAPI(module string, fragment []byte) fx.Option {
	return fx.Supply(fx.Annotate(openapi.Fragment{Module: module, JSON: fragment}, fx.ResultTags(`group:"openapi"`)))
}

// TokenVerifier registers a constructor of a verify.Verifier for POST /tokens/verify.
func TokenVerifier(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.As(new(verify.Verifier)), fx.ResultTags(verify.Group)))
}

// fragments is how the core receives every enabled module's OpenAPI fragment.
type fragments struct {
	fx.In
	Fragments []openapi.Fragment `group:"openapi"`
}
