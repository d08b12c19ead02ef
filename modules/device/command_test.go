package device_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/modules/device"
)

// TestCommandsStandAlone: the device commands need nothing from cmd/: mounted by core on a bare
// root with this module alone, `devices create` and `devices archive` keep the binary's
// output ({"id": N} on stdout) and refusals (an error, nothing on stdout), on both backends.
func TestCommandsStandAlone(t *testing.T) {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CASHLESS_AUTH_") && !strings.HasPrefix(kv, "CASHLESS_AUTH_TEST_") {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, "")
		}
	}
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "")
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "config.yaml")
			key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\n", b.DataDir, b.URL, key)
			if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			run := func(args ...string) (map[string]int64, error) {
				t.Helper()
				path := conf
				root := &cobra.Command{Use: "cashless-auth", SilenceUsage: true, SilenceErrors: true}
				core.NewCLI(&path, []core.Plugin{device.Plugin}).Mount(root)
				var out bytes.Buffer
				root.SetOut(&out)
				root.SetErr(&bytes.Buffer{})
				root.SetArgs(args)
				if err := root.ExecuteContext(context.Background()); err != nil {
					if out.Len() != 0 {
						t.Errorf("%v failed (%v) but printed %q", args, err, out.String())
					}
					return nil, err
				}
				var m map[string]int64
				if err := json.Unmarshal(out.Bytes(), &m); err != nil || len(m) != 1 {
					t.Fatalf("%v: stdout is not {\"id\": N}: %q", args, out.String())
				}
				return m, nil
			}

			db := storetest.Open(t, b)
			ev, err := store.NewEvents(db).Create(context.Background(), "Festival")
			if err != nil {
				t.Fatal(err)
			}
			create := []string{"devices", "create", "--event-id", fmt.Sprint(ev), "--mac", "AA-BB-CC-DD-EE-FF", "--name", "Bar"}
			m, err := run(create...)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			id := m["id"]
			if m, err := run("devices", "archive", "--id", fmt.Sprint(id)); err != nil || m["id"] != id {
				t.Fatalf("archive: %v %v", m, err)
			}
			if d, err := store.NewDevices(db).ByID(context.Background(), id); err != nil || !d.Archived || d.MAC != "aa:bb:cc:dd:ee:ff" {
				t.Fatalf("device after archive: %+v %v", d, err)
			}
			for _, c := range []struct {
				args []string
				want string
			}{
				{create, "already exists"},
				{[]string{"devices", "create", "--event-id", fmt.Sprint(ev), "--mac", "nope"}, "is not a MAC address"},
				{[]string{"devices", "create", "--mac", "02:00:00:00:00:01"}, "--event-id is required"},
				{[]string{"devices", "create", "--event-id", fmt.Sprint(ev + 1000), "--mac", "02:00:00:00:00:01"}, "does not exist"},
				{[]string{"devices", "archive"}, "--id is required"},
				{[]string{"devices", "archive", "--id", fmt.Sprint(id + 1000)}, fmt.Sprintf("device %d does not exist", id+1000)},
			} {
				if _, err := run(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%v: err %v, want %q", c.args, err, c.want)
				}
			}
		})
	}
}
