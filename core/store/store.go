package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cashlessmedia/cashless-auth/core/outage"
)

// ErrNotFound reports that no row matched.
var ErrNotFound = errors.New("store: not found")

// ErrConflict reports a unique constraint violation (duplicate e-mail, MAC, token hash, ...).
var ErrConflict = errors.New("store: conflict")

// ErrReference reports a foreign key naming a row that does not exist (unknown event, user, ...).
var ErrReference = errors.New("store: referenced row not found")

// Dialect names.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// EmbeddedFileName is the SQLite file created in the data directory when no URL is configured.
const EmbeddedFileName = "cashless-auth.db"

const (
	sqliteBusyTimeout = 5 * time.Second
	// Enough for concurrent readers under WAL; writers are serialised by SQLite regardless.
	sqliteMaxOpenConns = 8

	postgresMaxOpenConns = 20
	postgresMaxIdleConns = 10
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationsFS embed.FS

// DB is an open database of either dialect.
type DB struct {
	X       *sqlx.DB
	Dialect string // DialectPostgres or DialectSQLite

	// Now is the clock used for created_at, updated_at and similar columns; nil means time.Now.
	Now func() time.Time

	// OnMigration is told about each applied migration, with its set's owner ("" for the core;
	// the service logs it through zap); nil keeps the store silent, as tests and CLI commands want.
	OnMigration func(owner string, version int64, d time.Duration)

	// OnOutage is told about each call that failed because the database could not serve it
	// (see unavailable; the service counts them as cashless_auth_dependency_errors_total);
	// nil counts nothing.
	OnOutage func()
}

// Open connects to the database named by url, creating the embedded SQLite file when needed, and
// pings it. Accepted forms: "" (SQLite file <dataDir>/cashless-auth.db), "sqlite://PATH",
// "postgres://..." and "postgresql://...".
func Open(ctx context.Context, url, dataDir string) (*DB, error) {
	lower := strings.ToLower(url)
	switch {
	case url == "":
		if dataDir == "" {
			return nil, errors.New("store: no database URL and no data directory for the embedded database")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
		return openSQLite(ctx, filepath.Join(dataDir, EmbeddedFileName))
	case strings.HasPrefix(lower, "sqlite://"):
		path := url[len("sqlite://"):]
		if path == "" {
			return nil, errors.New("store: sqlite:// URL without a file path (want sqlite://PATH)")
		}
		return openSQLite(ctx, path)
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return openPostgres(ctx, url)
	default:
		return nil, fmt.Errorf("store: unsupported database URL %q: use an empty URL (embedded SQLite in the data directory), sqlite://PATH, or postgres://USER@HOST/DB", RedactURL(url))
	}
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	// The driver treats everything after the first '?' as its own parameters.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: SQLite path %q must not contain '?'", path)
	}
	// A plain path starting with "file:" would be read as an SQLite URI.
	if strings.HasPrefix(path, "file:") {
		path = "." + string(filepath.Separator) + path
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("store: directory of SQLite file %q does not exist", path)
		}
	}
	// SQLite would create the file with the process umask (often world-readable); it holds
	// password hashes and sealed secrets. Its -wal and -shm files inherit these permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		_ = f.Close()
	case errors.Is(err, fs.ErrExist):
	default:
		return nil, fmt.Errorf("store: create SQLite file %q: %w", path, err)
	}

	q := url.Values{}
	// busy_timeout first: the pragmas after it may need a lock another connection holds.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	q.Set("_time_integer_format", "unix_micro")
	sqlDB, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open SQLite file %q: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(sqliteMaxOpenConns)
	sqlDB.SetMaxIdleConns(sqliteMaxOpenConns)
	// "sqlite3" only selects sqlx's bind style (?); the database/sql driver is modernc's "sqlite".
	db := &DB{X: sqlx.NewDb(sqlDB, "sqlite3"), Dialect: DialectSQLite}
	if err := db.X.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: open SQLite file %q: %w", path, err)
	}
	var fk int
	if err := db.X.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		_ = sqlDB.Close()
		if err == nil {
			err = errors.New("foreign keys are not enabled")
		}
		return nil, fmt.Errorf("store: open SQLite file %q: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	sqlDB, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", RedactURL(dsn), err)
	}
	sqlDB.SetMaxOpenConns(postgresMaxOpenConns)
	sqlDB.SetMaxIdleConns(postgresMaxIdleConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	// Recycle connections so a failover or DNS change is picked up eventually.
	sqlDB.SetConnMaxLifetime(time.Hour)
	db := &DB{X: sqlx.NewDb(sqlDB, "postgres"), Dialect: DialectPostgres}
	if err := db.X.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", RedactURL(dsn), err)
	}
	return db, nil
}

// Migrate applies every pending migration of the core's schema in the database's dialect; it is
// a no-op when the schema is current. On PostgreSQL an advisory lock lets replicas start together.
func (db *DB) Migrate(ctx context.Context) error {
	return db.MigrateSet(ctx, CoreMigrations())
}

// MigrationSet is one owner's migrations: the core's, or a module's own (Plugin.Migrations). Each
// owner keeps its own goose version table, so a module's versions never interleave with the core's
// or another module's, and a module switched on later starts from its first migration.
type MigrationSet struct {
	// Owner names the set: "" for the core, else the module's name ([a-z0-9_]+).
	Owner string
	// FS holds one directory per dialect, postgres/ and sqlite/, of goose SQL files.
	FS fs.FS
}

// CoreMigrations is the core's own set.
func CoreMigrations() MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	return MigrationSet{FS: sub}
}

// VersionTable is the goose table that records the set's applied versions: the core keeps
// goose's default name, which databases made by earlier releases already have.
func (m MigrationSet) VersionTable() string {
	if m.Owner == "" {
		return goose.DefaultTablename
	}
	return "goose_" + m.Owner + "_version"
}

func (m MigrationSet) check() error {
	if m.FS == nil {
		return fmt.Errorf("migrations of %q: no files", m.Owner)
	}
	for _, r := range m.Owner {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return fmt.Errorf("migrations of %q: the owner must be [a-z0-9_]+, it names a table", m.Owner)
		}
	}
	return nil
}

// MigrateSet applies every pending migration of one set in the database's dialect.
func (db *DB) MigrateSet(ctx context.Context, set MigrationSet) error {
	fail := func(err error) error {
		if set.Owner == "" {
			return fmt.Errorf("store: migrate: %w", err)
		}
		return fmt.Errorf("store: migrate module %s: %w", set.Owner, err)
	}
	if err := set.check(); err != nil {
		return fail(err)
	}
	var dialect goose.Dialect
	opts := []goose.ProviderOption{
		goose.WithLogger(goose.NopLogger()),
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName(set.VersionTable()),
	}
	switch db.Dialect {
	case DialectPostgres:
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fail(err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case DialectSQLite:
		dialect = goose.DialectSQLite3
	default:
		return fail(fmt.Errorf("unknown dialect %q", db.Dialect))
	}
	fsys, err := fs.Sub(set.FS, db.Dialect)
	if err != nil {
		return fail(err)
	}
	// A provider per call keeps goose's state out of package globals, so several DBs can coexist.
	p, err := goose.NewProvider(dialect, db.X.DB, fsys, opts...)
	if err != nil {
		return fail(err)
	}
	for attempt := 1; ; attempt++ {
		results, err := p.Up(ctx)
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			results = partial.Applied
		}
		if db.OnMigration != nil {
			for _, r := range results {
				db.OnMigration(set.Owner, r.Source.Version, r.Duration)
			}
		}
		if err == nil {
			return nil
		}
		// SQLite has no advisory lock: another process opening the same fresh file can apply a
		// migration between goose's version check and its transaction. The losing transaction
		// rolled back as a whole (SQLite DDL is transactional), so trying again is safe and
		// finds the work done.
		if db.Dialect != DialectSQLite || attempt == 3 {
			return fail(err)
		}
		select {
		case <-ctx.Done():
			return fail(err)
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
}

// MigrateAll applies the core's migrations, then each module set in order: a module's tables
// may reference the core's.
func (db *DB) MigrateAll(ctx context.Context, modules []MigrationSet) error {
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	for _, m := range modules {
		if err := db.MigrateSet(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// Ping checks that the database answers; a failure is an outage like any other call's.
func (db *DB) Ping(ctx context.Context) error {
	return db.mapErr(ctx, "ping", db.X.PingContext(ctx))
}

// Close closes every pooled connection.
func (db *DB) Close() error {
	return db.X.Close()
}

// RedactURL returns url with any password removed, for logs and error messages.
func RedactURL(raw string) string {
	if raw == "" || strings.HasPrefix(strings.ToLower(raw), "sqlite://") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Unparseable text may still hold a password; show only what precedes "://".
		if i := strings.Index(raw, "://"); i > 0 && !strings.ContainsAny(raw[:i], "@:/") {
			return raw[:i] + "://[redacted]"
		}
		return "[redacted]"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// now returns the current time as the store keeps it.
func (db *DB) now() time.Time {
	if db.Now != nil {
		return dbTime(db.Now())
	}
	return dbTime(time.Now())
}

// rebind converts ? placeholders to the driver's style.
func (db *DB) rebind(query string) string {
	return db.X.Rebind(query)
}

// dbTime normalises t to what both backends store: UTC, whole microseconds, no monotonic reading.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// Err maps the error of a module's own query (on its own tables, through db.X) the way every
// repository's is mapped: ErrNotFound, ErrConflict, ErrReference, or an outage the HTTP layer
// answers 503 and the metrics count. op names the query in the message.
func (db *DB) Err(ctx context.Context, op string, err error) error { return db.mapErr(ctx, op, err) }

// mapErr translates driver errors into the package's sentinel errors and prefixes op.
// The driver's message is kept for other errors; neither driver puts row values in it.
// Every repository call that fails ends here, which makes it the one place where a failure of
// the database itself is marked (outage.Error, so the HTTP layer answers 503) and counted.
func (db *DB) mapErr(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("store: %s: %w", op, ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("store: %s: %w", op, ErrReference)
	case unavailable(ctx, err):
		if db.OnOutage != nil {
			db.OnOutage()
		}
		return fmt.Errorf("store: %s: %w", op, &outage.Error{Dependency: outage.Database, Err: err})
	default:
		return fmt.Errorf("store: %s: %w", op, err)
	}
}

// unavailable reports whether err means that the database could not serve the call:
// unreachable (refused, reset or closed connections), too slow (one of the service's deadlines
// passed, SQLite's busy timeout ran out behind another writer) or unable (PostgreSQL out of
// connections, shutting down, failing I/O; an SQLite file unreadable, full or corrupt). SQL the
// database refused (a bug, answered 500) and a caller that gave up are not outages.
func unavailable(ctx context.Context, err error) bool {
	if outage.CallerGone(ctx, err) {
		return false
	}
	if pe := pq.As(err); pe != nil {
		switch pe.Code.Class() {
		case pqerror.ClassConnectionException, pqerror.ClassInsufficientResources,
			pqerror.ClassOperatorIntervention, pqerror.ClassSystemError, pqerror.ClassInternalError:
			return true
		}
		return false
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff { // extended codes carry the primary one in their low byte
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB:
			return true
		}
		return false
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true // refused, reset, i/o timeout, DNS
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func isUniqueViolation(err error) bool {
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		case sqlite3.SQLITE_CONSTRAINT:
			// Only reached if extended result codes were ever switched off.
			return strings.Contains(se.Error(), "UNIQUE constraint failed")
		}
	}
	return false
}

func isForeignKeyViolation(err error) bool {
	if pq.As(err, pqerror.ForeignKeyViolation) != nil {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return true
		case sqlite3.SQLITE_CONSTRAINT:
			return strings.Contains(se.Error(), "FOREIGN KEY constraint failed")
		}
	}
	return false
}

// errNoRows lets update helpers report "nothing matched" through mapErr like a query would.
var errNoRows = sql.ErrNoRows

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// timeCol scans a NOT NULL time column from either driver: lib/pq yields time.Time,
// modernc.org/sqlite yields the stored unix microseconds.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	t, err := timeFromDB(src)
	if err != nil {
		return err
	}
	*c.t = t
	return nil
}

// nullTimeCol scans a nullable time column into a *time.Time (nil for NULL).
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = nil
		return nil
	}
	t, err := timeFromDB(src)
	if err != nil {
		return err
	}
	*c.t = &t
	return nil
}

func timeFromDB(src any) (time.Time, error) {
	switch v := src.(type) {
	case time.Time:
		return v.UTC(), nil
	case int64:
		return time.UnixMicro(v).UTC(), nil
	default:
		return time.Time{}, fmt.Errorf("store: cannot read %T as a time", src)
	}
}

// affectedOne reports whether res changed a row.
func affectedOne(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}
