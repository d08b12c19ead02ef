package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// TestUnlock: `users unlock --id N` lifts the password lock of a running service sharing the
// CLI's configuration. With Redis it does; on the embedded backend the lock is in the serving
// process's memory, and the command fails saying so, leaving the lock as it was.
func TestUnlock(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := testkit.Start(t, b, testkit.Options{Plugins: modules.All(), Config: map[string]any{"ratelimit.routes.password.login": "1000/minute"}})
			const pw = "right-pass-123"
			id := env.User(t, "victim@example.com", pw, "admin", nil, 0)
			login := func(password string) int {
				return env.Client.Do("POST", "/auth/login", map[string]any{"email": "victim@example.com", "password": password}).Status
			}
			for range 10 {
				login("guess")
			}
			if s := login(pw); s != 429 {
				t.Fatalf("not locked after 10 failures: %d", s)
			}

			conf := filepath.Join(t.TempDir(), "config.yaml")
			key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\n", b.DataDir, b.URL, key)
			if env.RedisPrefix != "" {
				yaml += fmt.Sprintf("redis:\n  url: %q\n  prefix: %q\n", statetest.RedisURL(), env.RedisPrefix)
			}
			if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"users", "unlock"}, {"users", "unlock", "--id", fmt.Sprint(id + 1000)}} {
				if out, err := runCLI(t, conf, args...); err == nil || out != "" {
					t.Errorf("%v: err %v, stdout %q", args, err, out)
				}
			}

			out, err := runCLI(t, conf, "users", "unlock", "--id", fmt.Sprint(id))
			if env.RedisPrefix == "" {
				if err == nil || out != "" || !strings.Contains(err.Error(), "memory of the serving process") {
					t.Fatalf("embedded backend: err %v, stdout %q; want a refusal that says where the lock is", err, out)
				}
				if s := login(pw); s != 429 {
					t.Fatalf("embedded backend: the lock changed: %d", s)
				}
				return
			}
			if err != nil {
				t.Fatalf("unlock: %v", err)
			}
			if got := printedIDOf(t, out); got != id {
				t.Fatalf("unlock printed %d", got)
			}
			if s := login(pw); s != 200 {
				t.Fatalf("after unlock: %d", s)
			}
		})
	}
}
