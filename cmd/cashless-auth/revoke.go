package main

import (
	"context"
	"io"

	"github.com/cashlessmedia/cashless-auth/core"
)

// withRevoker runs fn with the core.Revoker every command gets (core.CLI.WithRevoker).
func withRevoker(ctx context.Context, g *globals, stderr io.Writer, fn func(*core.Revoker) error) error {
	return g.cli.WithRevoker(ctx, stderr, fn)
}
