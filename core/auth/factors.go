package auth

import "context"

// SecondFactors tells whether a staff user has a second factor switched on. A module that keeps
// second factors provides it (modules/mfa); the core names no such module, and a route that
// reports the state takes it as an optional dependency: without that module, nobody has one.
type SecondFactors interface {
	Enabled(ctx context.Context, userID int64) (bool, error)
}
