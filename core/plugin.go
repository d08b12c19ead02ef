// Package core is what every login lane and feature shares: configuration, stores, tokens,
// sessions, guards, rate limits and the HTTP server. It names no lane; modules plug in through
// fx value groups (routes, OpenAPI fragments, token verifiers) and a Plugin entry in the
// catalogue, which also carries their CLI commands.
package core

import (
	"io/fs"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/spf13/viper"
	"go.uber.org/fx"
)

// Plugin is a module as the catalogue lists it.
type Plugin struct {
	// Name is the config switch: modules.<Name>.enabled.
	Name string
	// AlwaysOn marks the core's own endpoint modules (health, sessions): no switch.
	AlwaysOn bool
	// EnabledByDefault is the switch's default.
	EnabledByDefault bool
	// Config is the module's own section, modules.<Name>.* (NewSection): validated before
	// anything starts, with every problem of every enabled module reported at once, and
	// provided to Module alone. Optional.
	Config *Section
	// Module is the fx wiring.
	Module fx.Option
	// Commands are the module's CLI commands, mounted under the binary's root. They are not
	// an fx group: the command tree must exist before --config is parsed, and so before any
	// graph could be built from the configuration.
	Commands []Command
	// Migrations are the module's own schema: a postgres/ and a sqlite/ directory of goose SQL
	// files, applied after the core's, with their own version table, whenever the module is
	// enabled (so also when it is switched on later). A module keeps here the tables only it
	// uses; what several modules share (users, consumers, events, devices, identities) is the
	// core's. Optional. Like Commands, a field rather than an fx group: `cashless-auth migrate`
	// applies them without building the service's graph.
	Migrations fs.FS
}

// migrationSet is the plugin's migration set, if it has one.
func (p Plugin) migrationSet() (store.MigrationSet, bool) {
	if p.Migrations == nil {
		return store.MigrationSet{}, false
	}
	return store.MigrationSet{Owner: p.Name, FS: p.Migrations}, true
}

// enabledMigrations are the migration sets of the plugins enabled under v, in catalogue order.
func enabledMigrations(v *viper.Viper, plugins []Plugin) []store.MigrationSet {
	var sets []store.MigrationSet
	for _, p := range plugins {
		if set, ok := p.migrationSet(); ok && p.Enabled(v) {
			sets = append(sets, set)
		}
	}
	return sets
}

// SwitchKey is the config key that turns a plugin on or off.
func SwitchKey(name string) string { return "modules." + name + ".enabled" }

// Enabled reports whether p runs under v.
func (p Plugin) Enabled(v *viper.Viper) bool {
	return p.AlwaysOn || v.GetBool(SwitchKey(p.Name))
}

// option is p's fx wiring under v: its module, and its section provided privately to it.
func (p Plugin) option(v *viper.Viper) fx.Option {
	if p.Config == nil {
		return p.Module
	}
	get := func() (any, error) { return p.Config.load(v, p.Name, true) }
	return fx.Module("modules."+p.Name, p.Config.provide(get), p.Module)
}
