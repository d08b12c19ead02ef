package core

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Command builds a CLI command a module contributes (Plugin.Commands). The command tree is
// built before any flag is parsed, so that --help works without a configuration and --config
// can point anywhere: Build must not touch cli, only capture it for RunE.
type Command func(cli *CLI) *cobra.Command

// CLI is what every command, the binary's own and the modules', reaches the service's data
// through at run time: the configuration named by --config, the database and the revoker, each
// built the same way for every command.
type CLI struct {
	configPath *string
	plugins    []Plugin

	loaded bool
	v      *viper.Viper
	cfg    config.Core
	err    error
}

// NewCLI serves commands of plugins; *configPath is read when a command runs, after cobra
// has parsed the root's --config.
func NewCLI(configPath *string, plugins []Plugin) *CLI {
	return &CLI{configPath: configPath, plugins: plugins}
}

// Load reads and validates the configuration, once per process: a module's command is checked
// against its switch before it runs, and then loads again through its helpers.
func (c *CLI) Load() (*viper.Viper, config.Core, error) {
	if !c.loaded {
		c.loaded = true
		c.v, c.cfg, c.err = Load(*c.configPath, c.plugins, nil)
		if c.err != nil {
			c.err = fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(c.err.Error(), "\n", "\n  "))
		}
	}
	return c.v, c.cfg, c.err
}

// OpenStore opens and migrates the configured database (the core's schema and every enabled
// module's); the caller closes it.
func (c *CLI) OpenStore(ctx context.Context) (*store.DB, config.Core, error) {
	v, cfg, err := c.Load()
	if err != nil {
		return nil, cfg, err
	}
	db, err := store.Open(ctx, cfg.Database.URL, cfg.Data.Dir)
	if err != nil {
		return nil, cfg, fmt.Errorf("open database %s: %w", store.RedactURL(cfg.Database.URL), err)
	}
	if err := db.MigrateAll(ctx, enabledMigrations(v, c.plugins)); err != nil {
		db.Close()
		return nil, cfg, fmt.Errorf("migrate: %w", err)
	}
	return db, cfg, nil
}

// WithStore runs fn over the configured database.
func (c *CLI) WithStore(ctx context.Context, fn func(*store.DB) error) error {
	db, _, err := c.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// WithRevoker runs fn with a Revoker over the configured database and, with redis.url, the
// replicas' shared state store, so that a revocation reaches every running replica before the
// command answers. Without Redis (the embedded backend) it says on stderr when the serving
// process applies it.
func (c *CLI) WithRevoker(ctx context.Context, stderr io.Writer, fn func(*Revoker) error) error {
	db, cfg, err := c.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var st state.Store
	if cfg.Redis.URL != "" {
		client, err := state.OpenRedis(cfg.Redis.URL)
		if err != nil {
			return fmt.Errorf("redis.url: %w", err)
		}
		defer client.Close()
		rs := state.NewRedis(client, cfg.Redis.Prefix)
		defer rs.Close()
		st = rs
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := OpenRevoker(ctx, db, st, cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := fn(r); err != nil {
		return err
	}
	if st == nil {
		fmt.Fprintf(stderr, "without redis.url the serving process applies this within redis.cache_ttl (%s)\n", cfg.Redis.CacheTTL)
	}
	return nil
}

// PrintID prints the one JSON object CLI creation commands promise on stdout.
func PrintID(w io.Writer, id int64) error {
	return json.NewEncoder(w).Encode(map[string]int64{"id": id})
}

// Mount adds every plugin's commands under root. A module's command is listed whether or not
// the module is enabled, since which config applies is known only once --config is parsed;
// when disabled it refuses to run, naming the switch, rather than act on data that no running
// service serves. Two modules may contribute to one command group (same name, no Run of its
// own): their subcommands are merged. Any other clash is a bug in the catalogue and panics on
// the first build of the tree, which every CLI test does.
func (c *CLI) Mount(root *cobra.Command) {
	for _, p := range c.plugins {
		for _, build := range p.Commands {
			cmd := build(c)
			c.guard(p, cmd)
			mount(root, cmd, p.Name)
		}
	}
}

func mount(parent, cmd *cobra.Command, module string) {
	for _, have := range parent.Commands() {
		if have.Name() != cmd.Name() {
			continue
		}
		if have.Runnable() || cmd.Runnable() {
			panic(fmt.Sprintf("module %s: command %q is already defined", module, have.CommandPath()))
		}
		for _, sub := range cmd.Commands() {
			cmd.RemoveCommand(sub)
			mount(have, sub, module)
		}
		return
	}
	parent.AddCommand(cmd)
}

// guard makes every runnable command of p's tree refuse to run while p is switched off.
func (c *CLI) guard(p Plugin, cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		c.guard(p, sub)
	}
	run, runE := cmd.Run, cmd.RunE
	if run == nil && runE == nil {
		return
	}
	cmd.Run = nil
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		v, _, err := c.Load()
		if err != nil {
			return err
		}
		if !p.Enabled(v) {
			return fmt.Errorf("%s: module %s is disabled; set %s: true to use this command", cmd.CommandPath(), p.Name, SwitchKey(p.Name))
		}
		if runE != nil {
			return runE(cmd, args)
		}
		run(cmd, args)
		return nil
	}
}
