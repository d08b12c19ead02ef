package main

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

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
)

// runCLI executes the CLI with the config file conf and returns its stdout.
func runCLI(t *testing.T, conf string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(append([]string{"--config", conf}, args...))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func printedIDOf(t *testing.T, out string) int64 {
	t.Helper()
	var m map[string]int64
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not {\"id\": N}: %q", out)
	}
	return m["id"]
}

// TestRetireHardware: devices archive and users revoke-session, on both backends.
func TestRetireHardware(t *testing.T) {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CASHLESS_AUTH_") && !strings.HasPrefix(kv, "CASHLESS_AUTH_TEST_") {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, "")
		}
	}
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "config.yaml")
			key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\n", b.DataDir, b.URL, key)
			if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			must := func(args ...string) int64 {
				t.Helper()
				out, err := runCLI(t, conf, args...)
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				return printedIDOf(t, out)
			}
			ev := must("events", "create", "--name", "Festival")
			op := must("users", "create", "--email", "op@example.com", "--role", "operator", "--event-id", fmt.Sprint(ev), "--mode", "4", "--password", "op-pass-123")
			dev := must("devices", "create", "--event-id", fmt.Sprint(ev), "--mac", "AA-BB-CC-DD-EE-FF", "--name", "Bar", "--operator-id", fmt.Sprint(op))

			db := storetest.Open(t, b)
			ctx := context.Background()
			users, devices := store.NewUsers(db), store.NewDevices(db)
			if err := users.SetSessionToken(ctx, op, "hash", "sealed"); err != nil {
				t.Fatal(err)
			}

			if got := must("devices", "archive", "--id", fmt.Sprint(dev)); got != dev {
				t.Fatalf("archive printed %d", got)
			}
			if d, err := devices.ByID(ctx, dev); err != nil || !d.Archived || d.MAC != "aa:bb:cc:dd:ee:ff" {
				t.Fatalf("device after archive: %+v %v", d, err)
			}
			if got := must("users", "revoke-session", "--id", fmt.Sprint(op)); got != op {
				t.Fatalf("revoke-session printed %d", got)
			}
			if u, err := users.ByID(ctx, op); err != nil || u.SessionTokenHash != nil || u.SessionTokenSealed != nil {
				t.Fatalf("user after revoke-session: %v %v", u.SessionTokenHash, err)
			}

			for _, args := range [][]string{
				{"devices", "archive", "--id", fmt.Sprint(dev + 1000)},
				{"users", "revoke-session", "--id", fmt.Sprint(op + 1000)},
				{"devices", "archive"},
				{"users", "revoke-session"},
			} {
				if out, err := runCLI(t, conf, args...); err == nil || out != "" {
					t.Errorf("%v: err %v, stdout %q", args, err, out)
				}
			}
		})
	}
}

// TestOpenAPINeedsNoStore: `openapi` prints the enabled modules' document from the config
// alone, even when the configured PostgreSQL is unreachable, and a disabled module's paths
// are absent.
func TestOpenAPINeedsNoStore(t *testing.T) {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CASHLESS_AUTH_") && !strings.HasPrefix(kv, "CASHLESS_AUTH_TEST_") {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, "")
		}
	}
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "") // make test sets it; the loader refuses it unless allowed
	conf := filepath.Join(t.TempDir(), "config.yaml")
	body := "database:\n  url: postgres://nobody@127.0.0.1:1/none?sslmode=disable\n" +
		"jwt:\n  secret: 0123456789abcdef0123456789abcdef\n" +
		"secrets:\n  encryption_key: " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)) + "\n" +
		"modules:\n  phone_otp:\n    enabled: false\n  firebase:\n    enabled: true\n    project_id: demo-test\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, conf, "openapi")
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, want := range []string{"/tokens/verify", "/auth/login/firebase"} {
		if doc.Paths[want] == nil {
			t.Errorf("no %s among %d paths", want, len(doc.Paths))
		}
	}
	for p := range doc.Paths {
		if strings.Contains(p, "/otp") || strings.Contains(p, "/phone") {
			t.Errorf("disabled phone_otp module's path %s is in the document", p)
		}
	}
}
