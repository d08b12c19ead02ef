package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// stampPlugin is a module that exists only in this test, as a new lane would: the binary
// learns of it from the plugin list alone. `stamp create --name N` records an event through
// the store every command is given; `users stamp-count` joins the binary's own group.
func stampPlugin(enabled bool) core.Plugin {
	stamp := func(cli *core.CLI) *cobra.Command {
		group := &cobra.Command{Use: "stamp", Short: "Test-only module command"}
		var name string
		create := &cobra.Command{Use: "create", Short: "Record an event", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return cli.WithStore(cmd.Context(), func(db *store.DB) error {
					id, err := store.NewEvents(db).Create(cmd.Context(), "stamp:"+name)
					if err != nil {
						return err
					}
					return core.PrintID(cmd.OutOrStdout(), id)
				})
			}}
		create.Flags().StringVar(&name, "name", "", "stamp name")
		group.AddCommand(create)
		return group
	}
	count := func(*core.CLI) *cobra.Command {
		users := &cobra.Command{Use: "users"}
		users.AddCommand(&cobra.Command{Use: "stamp-count", Short: "Test-only command in the users group",
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "counted")
				return err
			}})
		return users
	}
	return core.Plugin{Name: "stamp", EnabledByDefault: enabled, Commands: []core.Command{stamp, count}}
}

func runWith(t *testing.T, plugins []core.Plugin, conf string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRoot(plugins)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"--config", conf}, args...))
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func embeddedConfig(t *testing.T, extra string) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CASHLESS_AUTH_") && !strings.HasPrefix(kv, "CASHLESS_AUTH_TEST_") {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, "")
		}
	}
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "")
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yaml")
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\n%s",
		dir, "sqlite://"+filepath.Join(dir, store.EmbeddedFileName), key, extra)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}

// TestModuleContributesCommand: a module unknown to cmd/ and core/ adds commands by its plugin
// entry alone; they are listed by --help, run with the store core opens for them, and merge
// into a group the binary already has without hiding the group's own commands.
func TestModuleContributesCommand(t *testing.T) {
	conf := embeddedConfig(t, "")
	plugins := append(modules.All(), stampPlugin(true))

	help, _, err := runWith(t, plugins, conf, "--help")
	if err != nil || !strings.Contains(help, "stamp ") || !strings.Contains(help, "Test-only module command") {
		t.Fatalf("--help does not list the module's command (err %v):\n%s", err, help)
	}
	usersHelp, _, err := runWith(t, plugins, conf, "users", "--help")
	for _, want := range []string{"stamp-count", "create", "revoke-session", "unlock"} {
		if err != nil || !strings.Contains(usersHelp, want) {
			t.Errorf("users --help lacks %q (err %v):\n%s", want, err, usersHelp)
		}
	}

	out, _, err := runWith(t, plugins, conf, "stamp", "create", "--name", "first")
	if err != nil {
		t.Fatalf("stamp create: %v", err)
	}
	id := printedIDOf(t, out)
	if out, _, err := runWith(t, plugins, conf, "users", "stamp-count"); err != nil || out != "counted\n" {
		t.Errorf("users stamp-count: %q %v", out, err)
	}

	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(filepath.Dir(conf), store.EmbeddedFileName), filepath.Dir(conf))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ev, err := store.NewEvents(db).Get(context.Background(), id); err != nil || ev.Name != "stamp:first" {
		t.Fatalf("the command's event %d: %+v %v", id, ev, err)
	}
}

// TestDisabledModuleCommandRefuses: a switched-off module's commands stay listed (the
// config is not known when --help is printed) but refuse to run, name the switch, print
// nothing on stdout and leave the data alone. Commands on data several modules share stay in
// core and run whatever is switched off: with the device lane off, offline tokens still bind to
// devices, and devices archive is what ends them.
func TestDisabledModuleCommandRefuses(t *testing.T) {
	conf := embeddedConfig(t, "modules:\n  device:\n    enabled: false\n")
	plugins := append(modules.All(), stampPlugin(false))

	if help, _, err := runWith(t, plugins, conf, "--help"); err != nil || !strings.Contains(help, "stamp ") {
		t.Errorf("--help hides a disabled module's commands (err %v):\n%s", err, help)
	}
	for _, c := range []struct {
		args   []string
		module string
	}{
		{[]string{"stamp", "create", "--name", "x"}, "stamp"},
		{[]string{"users", "stamp-count"}, "stamp"},
	} {
		out, _, err := runWith(t, plugins, conf, c.args...)
		if err == nil || out != "" || !strings.Contains(err.Error(), "modules."+c.module+".enabled") {
			t.Errorf("%v: err %v, stdout %q; want a refusal naming modules.%s.enabled", c.args, err, out, c.module)
		}
	}
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(filepath.Dir(conf), store.EmbeddedFileName), filepath.Dir(conf))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ev, err := store.NewEvents(db).Get(context.Background(), 1); err == nil {
		t.Errorf("a refused stamp create still recorded %+v", ev)
	}
	ev, _, err := runWith(t, plugins, conf, "events", "create", "--name", "Fest")
	if err != nil || printedIDOf(t, ev) != 1 {
		t.Fatalf("events create: %q %v", ev, err)
	}
	dev, _, err := runWith(t, plugins, conf, "devices", "create", "--event-id", "1", "--mac", "02:00:00:00:00:01")
	if err != nil {
		t.Fatalf("devices create with the device lane off: %v", err)
	}
	id := fmt.Sprint(printedIDOf(t, dev))
	if out, _, err := runWith(t, plugins, conf, "devices", "archive", "--id", id); err != nil || fmt.Sprint(printedIDOf(t, out)) != id {
		t.Errorf("devices archive with the device lane off: %q %v", out, err)
	}
}

// TestCommandClashPanics: two modules defining the same runnable command is a catalogue bug,
// caught the first time the tree is built instead of one silently shadowing the other.
func TestCommandClashPanics(t *testing.T) {
	clash := core.Plugin{Name: "clash", Commands: []core.Command{func(*core.CLI) *cobra.Command {
		return &cobra.Command{Use: "migrate", RunE: func(*cobra.Command, []string) error { return nil }}
	}}}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `"cashless-auth migrate"`) {
			t.Errorf("recovered %v; want a panic naming the clashing command", r)
		}
	}()
	newRoot(append(modules.All(), clash))
}
