package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
)

func TestOpenEmbeddedDefault(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(t.Context(), "", dataDir)
	noErr(t, err)
	defer db.Close()
	if db.Dialect != store.DialectSQLite {
		t.Fatalf("dialect = %q", db.Dialect)
	}
	noErr(t, db.Migrate(t.Context()))

	st := must(os.Stat(dataDir))(t)
	if perm := st.Mode().Perm(); perm != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", perm)
	}
	st = must(os.Stat(filepath.Join(dataDir, store.EmbeddedFileName)))(t)
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode = %v, want 0600", perm)
	}
}

func TestOpenSQLiteURL(t *testing.T) {
	t.Run("absolute", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.db")
		db := must(store.Open(t.Context(), "sqlite://"+path, ""))(t)
		defer db.Close()
		noErr(t, db.Migrate(t.Context()))
		must(os.Stat(path))(t)
	})
	t.Run("relative", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		noErr(t, os.Mkdir("sub", 0o700))
		db := must(store.Open(t.Context(), "sqlite://sub/y.db", ""))(t)
		defer db.Close()
		must(os.Stat(filepath.Join(dir, "sub", "y.db")))(t)
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "nope", "x.db"), "")
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOpenRejects(t *testing.T) {
	for _, tc := range []struct{ url, dataDir, want string }{
		{"", "", "data directory"},
		{"sqlite://", "", "file path"},
		{"sqlite://a.db?mode=ro", "", "'?'"},
		{"mysql://root:hunter2@db/auth", "", "sqlite://PATH"},
		{"/var/lib/auth.db", "", "postgres://"},
	} {
		_, err := store.Open(t.Context(), tc.url, tc.dataDir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %q) err = %v, want mention of %q", tc.url, tc.dataDir, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestOpenPostgresUnreachableHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 is reserved; nothing listens there.
	_, err := store.Open(ctx, "postgresql://u:hunter2@127.0.0.1:1/db?sslmode=disable", "")
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the password: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error should name the server: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"sqlite://data/x.db": "sqlite://data/x.db",
		"postgres://u:secret@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                             "postgres://u@h/db",
		"postgres://h/db?password=secret":               "postgres://h/db?password=xxxxx",
	} {
		if got := store.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := store.RedactURL("postgres://u:se%zzcret@h/db"); strings.Contains(got, "se") && strings.Contains(got, "cret") {
		t.Errorf("unparseable URL not redacted: %q", got)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		// storetest.Open already migrated once.
		noErr(t, db.Migrate(t.Context()))
		noErr(t, db.Migrate(t.Context()))
		var version int64
		noErr(t, db.X.GetContext(t.Context(), &version, `SELECT max(version_id) FROM goose_db_version`))
		if version < 1 {
			t.Fatalf("goose version = %d", version)
		}
		noErr(t, db.Ping(t.Context()))
	})
}

// TestModuleMigrations: a module's set runs after the core's with its own version table, so its
// versions start at 1 beside the core's, it can reference core tables, and applying it again or
// after the core moved on is a no-op.
func TestModuleMigrations(t *testing.T) {
	files := func(create string) fstest.MapFS {
		m := fstest.MapFS{}
		for _, d := range []string{store.DialectPostgres, store.DialectSQLite} {
			m[d+"/00001_notes.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\n" + create + "\n-- +goose Down\nDROP TABLE module_notes;\n")}
		}
		return m
	}
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		set := store.MigrationSet{Owner: "notes", FS: files(
			`CREATE TABLE module_notes (consumer_id BIGINT NOT NULL REFERENCES consumers (id), note TEXT NOT NULL);`)}
		var applied []string
		db.OnMigration = func(owner string, version int64, _ time.Duration) {
			applied = append(applied, fmt.Sprintf("%s:%d", owner, version))
		}
		noErr(t, db.MigrateAll(ctx, []store.MigrationSet{set}))
		noErr(t, db.MigrateAll(ctx, []store.MigrationSet{set}))
		if !slices.Equal(applied, []string{"notes:1"}) {
			t.Fatalf("applied %v, want the module's version 1 once (the core was current)", applied)
		}
		var moduleVersion, coreVersion int64
		noErr(t, db.X.GetContext(ctx, &moduleVersion, `SELECT max(version_id) FROM goose_notes_version`))
		noErr(t, db.X.GetContext(ctx, &coreVersion, `SELECT max(version_id) FROM goose_db_version`))
		if moduleVersion != 1 || coreVersion < 3 {
			t.Fatalf("versions: module %d, core %d", moduleVersion, coreVersion)
		}
		c, _ := must2(store.NewConsumers(db).UpsertByPhone(ctx, "+14155550100"))(t)
		_, err := db.X.ExecContext(ctx, db.X.Rebind(`INSERT INTO module_notes (consumer_id, note) VALUES (?, 'x')`), c.ID)
		noErr(t, err)

		for _, bad := range []store.MigrationSet{{Owner: "Bad-Name", FS: set.FS}, {Owner: "x; DROP TABLE users", FS: set.FS}, {Owner: "nofiles"}} {
			if err := db.MigrateSet(ctx, bad); err == nil {
				t.Errorf("owner %q accepted", bad.Owner)
			}
		}
		broken := store.MigrationSet{Owner: "broken", FS: files(`CREATE TABLE users (id INTEGER);`)}
		if err := db.MigrateSet(ctx, broken); err == nil || !strings.Contains(err.Error(), "module broken") {
			t.Errorf("a failing module migration: %v, want an error naming the module", err)
		}
	})
}

func TestMigrateConcurrentFreshDatabase(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			// Two processes (e.g. replicas, or serve and a CLI command) starting on an empty database.
			dbs := make([]*store.DB, 3)
			for i := range dbs {
				dbs[i] = must(store.Open(t.Context(), b.URL, b.DataDir))(t)
				t.Cleanup(func() { _ = dbs[i].Close() })
			}
			errs := make([]error, len(dbs))
			race(len(dbs), func(i int) { errs[i] = dbs[i].Migrate(t.Context()) })
			for _, err := range errs {
				noErr(t, err)
			}
			must(store.NewEvents(dbs[0]).Create(t.Context(), "after concurrent migrate"))(t)
		})
	}
}

func TestSQLiteConnectionSettings(t *testing.T) {
	db := must(store.Open(t.Context(), "", t.TempDir()))(t)
	defer db.Close()
	// Check several connections, not just the first: pragmas are per connection.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := db.X.Connx(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			var mode string
			var fk, busy int
			if err := conn.QueryRowxContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Error(err)
				return
			}
			if err := conn.QueryRowxContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil {
				t.Error(err)
				return
			}
			if err := conn.QueryRowxContext(t.Context(), `PRAGMA busy_timeout`).Scan(&busy); err != nil {
				t.Error(err)
				return
			}
			if mode != "wal" || fk != 1 || busy < 1000 {
				t.Errorf("journal_mode=%s foreign_keys=%d busy_timeout=%d", mode, fk, busy)
			}
		}()
	}
	wg.Wait()
}

func TestTimeRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		// Nanoseconds, a non-UTC zone and a monotonic reading must all normalise away.
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		created := time.Date(2031, 7, 4, 23, 59, 58, 123456789, zone)
		clock := newFakeClock(created)
		db.Now = clock.Now
		ev := createEvent(t, db, "rt")
		want := created.UTC().Truncate(time.Microsecond)
		e := must(store.NewEvents(db).Get(ctx, ev))(t)
		if e.CreatedAt != want || e.CreatedAt.Location() != time.UTC {
			t.Fatalf("event CreatedAt = %v (%v), want %v", e.CreatedAt, e.CreatedAt.Location(), want)
		}

		// A module's own table, written and read through the helpers exported for modules.
		column := "TIMESTAMPTZ"
		if db.Dialect == store.DialectSQLite {
			column = "INTEGER"
		}
		_, err := db.X.ExecContext(ctx, `CREATE TABLE module_times (id INTEGER PRIMARY KEY, at `+column+` NOT NULL, gone `+column+`)`)
		noErr(t, err)
		clock.Add(1500 * time.Nanosecond)
		later := created.Add(1500 * time.Nanosecond).UTC().Truncate(time.Microsecond)
		if got := db.Timestamp(); got != later {
			t.Fatalf("Timestamp = %v, want %v", got, later)
		}
		_, err = db.X.ExecContext(ctx, db.X.Rebind(`INSERT INTO module_times (id, at, gone) VALUES (1, ?, NULL), (2, ?, ?)`),
			db.Timestamp(), db.Timestamp(), store.StoredTime(created))
		noErr(t, err)
		var (
			at   time.Time
			gone *time.Time
		)
		noErr(t, db.X.QueryRowContext(ctx, `SELECT at, gone FROM module_times WHERE id = 1`).Scan(store.TimeColumn(&at), store.NullTimeColumn(&gone)))
		if at != later || at.Location() != time.UTC || gone != nil {
			t.Fatalf("row 1 = %v, %v; want %v, nil", at, gone, later)
		}
		noErr(t, db.X.QueryRowContext(ctx, `SELECT at, gone FROM module_times WHERE id = 2`).Scan(store.TimeColumn(&at), store.NullTimeColumn(&gone)))
		if gone == nil || *gone != want {
			t.Fatalf("row 2 gone = %v, want %v", gone, want)
		}

		// Far past and far future survive too.
		for _, ts := range []time.Time{
			time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC),
			time.Date(1901, 12, 13, 20, 45, 52, 999999000, time.UTC),
			time.Date(2262, 4, 11, 23, 47, 16, 854775000, time.UTC),
		} {
			clock := newFakeClock(ts)
			db.Now = clock.Now
			id := createEvent(t, db, "edge")
			e := must(store.NewEvents(db).Get(ctx, id))(t)
			if e.CreatedAt != ts {
				t.Errorf("round trip of %v gave %v", ts, e.CreatedAt)
			}
		}

		if db.Dialect == store.DialectSQLite {
			var typ string
			noErr(t, db.X.GetContext(ctx, &typ, `SELECT typeof(created_at) FROM events WHERE id = ?`, ev))
			if typ != "integer" {
				t.Fatalf("SQLite stores times as %s, want integer", typ)
			}
			var micros int64
			noErr(t, db.X.GetContext(ctx, &micros, `SELECT created_at FROM events WHERE id = ?`, ev))
			if micros != want.UnixMicro() {
				t.Fatalf("stored %d, want unix micros %d", micros, want.UnixMicro())
			}
		}
	})
}

func TestSchemaDefaultsForManualRows(t *testing.T) {
	// Operators may insert rows by hand (psql, sqlite3); the defaults must be valid times.
	eachBackend(t, func(t *testing.T, db *store.DB) {
		before := time.Now().Add(-time.Minute)
		_, err := db.X.ExecContext(t.Context(), `INSERT INTO events (id, name) VALUES (4242, 'manual')`)
		noErr(t, err)
		e := must(store.NewEvents(db).Get(t.Context(), 4242))(t)
		if e.CreatedAt.Before(before) || e.CreatedAt.After(time.Now().Add(time.Minute)) {
			t.Fatalf("default created_at = %v", e.CreatedAt)
		}
	})
}

func TestEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		events := store.NewEvents(db)
		id := must(events.Create(ctx, "Festival"))(t)
		e := must(events.Get(ctx, id))(t)
		if e.ID != id || e.Name != "Festival" || e.CreatedAt.IsZero() {
			t.Fatalf("Get = %+v", e)
		}
		if !must(events.Exists(ctx, id))(t) {
			t.Fatal("Exists = false for existing event")
		}
		if must(events.Exists(ctx, id+1000))(t) {
			t.Fatal("Exists = true for unknown event")
		}
		_, err := events.Get(ctx, id+1000)
		wantErr(t, err, store.ErrNotFound)
	})
}

// TestMigrateSQLiteLosesRaceToOtherProcess replays the window SQLite cannot lock: another process
// applies migration 1 after this one has read the version table but before its transaction starts.
func TestMigrateSQLiteLosesRaceToOtherProcess(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	other := must(store.Open(ctx, "", dir))(t)
	defer other.Close()
	mine := must(store.Open(ctx, "", dir))(t)
	defer mine.Close()

	raw := string(must(os.ReadFile("migrations/sqlite/00001_init.sql"))(t))
	up := raw[strings.Index(raw, "-- +goose Up"):strings.Index(raw, "-- +goose Down")]
	_, err := other.X.ExecContext(ctx, `CREATE TABLE goose_db_version (
		id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
		is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
		INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1);`)
	noErr(t, err)

	tx := must(other.X.BeginTx(ctx, nil))(t)
	_, err = tx.ExecContext(ctx, up+`;INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, 1);`)
	noErr(t, err)
	committed := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		committed <- tx.Commit()
	}()

	noErr(t, mine.Migrate(ctx))
	noErr(t, <-committed)
	must(store.NewEvents(mine).Create(ctx, "schema is there"))(t)
	var applied int
	noErr(t, mine.X.GetContext(ctx, &applied, `SELECT count(*) FROM goose_db_version WHERE version_id = 1`))
	if applied != 1 {
		t.Fatalf("migration 1 recorded %d times", applied)
	}
}
