package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// globals is what the binary's own commands share; g.cli serves the modules' commands too.
type globals struct {
	configPath string
	plugins    []core.Plugin
	cli        *core.CLI
}

func newRootCmd() *cobra.Command { return newRoot(modules.All()) }

// newRoot builds the command tree of a binary compiled with plugins: the core's commands and
// every plugin's, enabled or not (core.CLI.Mount says why).
func newRoot(plugins []core.Plugin) *cobra.Command {
	g := &globals{plugins: plugins}
	g.cli = core.NewCLI(&g.configPath, plugins)
	root := &cobra.Command{
		Use:           "cashless-auth",
		Short:         "Authentication, token issuance and permissions for the cashless-payments platform",
		Version:       version + " (" + commit + ")",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Running the binary with no command serves, as newcomers expect.
		RunE: func(cmd *cobra.Command, args []string) error { return serve(cmd.Context(), g) },
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "config file (default ./config.yaml if present)")
	root.AddCommand(
		&cobra.Command{Use: "serve", Short: "Serve HTTP", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), g) }},
		&cobra.Command{Use: "migrate", Short: "Apply database migrations", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { return migrate(cmd.Context(), g) }},
		&cobra.Command{Use: "openapi", Short: "Print the OpenAPI document of the enabled modules", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { return printOpenAPI(cmd.OutOrStdout(), g) }},
		&cobra.Command{Use: "config-check", Short: "Load and validate the configuration, listing every problem", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			_, cfg, err := load(g)
			// Warnings too: a key under its old name works today and stops at the next major.
			for _, r := range cfg.Renamed {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+r.Message())
			}
			if err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "configuration OK")
			}
			return err
		}},
		eventsCmd(g), usersCmd(g), devicesCmd(g),
		hashWorkerCmd(),
	)
	g.cli.Mount(root)
	return root
}

func load(g *globals) (*viper.Viper, config.Core, error) { return g.cli.Load() }

func serve(ctx context.Context, g *globals) error {
	v, cfg, err := load(g)
	if err != nil {
		return err
	}
	app := fx.New(core.Options(v, cfg, g.plugins, fx.Supply(hashWorker())))
	if err := app.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	var code int
	select {
	case <-sig:
	case s := <-app.Wait():
		code = s.ExitCode
	}
	stopCtx, cancel2 := context.WithTimeout(context.Background(), cfg.Server.DrainDelay+cfg.Server.ShutdownTimeout+app.StopTimeout())
	defer cancel2()
	if err := app.Stop(stopCtx); err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("server stopped with exit code %d", code)
	}
	return nil
}

// openStore opens and migrates the configured database for CLI commands.
func openStore(ctx context.Context, g *globals) (*store.DB, config.Core, error) {
	return g.cli.OpenStore(ctx)
}

func migrate(ctx context.Context, g *globals) error {
	db, _, err := openStore(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(os.Stderr, "migrations applied")
	return nil
}

func printOpenAPI(w io.Writer, g *globals) error {
	v, _, err := load(g)
	if err != nil {
		return err
	}
	doc, err := core.Document(v, g.plugins)
	if err != nil {
		return err
	}
	var pretty any
	if err := json.Unmarshal(doc.JSON, &pretty); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(pretty)
}

// printID prints the one JSON object CLI creation commands promise on stdout.
func printID(w io.Writer, id int64) error { return core.PrintID(w, id) }

func conflict(err error, what string) error {
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%s already exists", what)
	}
	return err
}
