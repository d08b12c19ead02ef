#!/usr/bin/env bash
# Makes sure the services the test suite talks to are up.
#
# Usage: scripts/services.sh <subcommand>...
#   ensure         PostgreSQL and Redis answer; start the local ones if down
#   mailpit-start  start mailpit (SMTP 127.0.0.1:1025, API 127.0.0.1:8025)
#                  in the background and wait until its API answers
#   mailpit-stop   undo one mailpit-start: mailpit stops when its last user
#                  (concurrent `make test` runs on this machine) has called it
#   mailpit-kill   stop mailpit now, whoever uses it
#   firebase-emulator-start  start the Firebase Auth emulator (firebase-tools,
#                  project demo-cashless) in the background, wait until it answers
#   firebase-emulator-stop   undo one firebase-emulator-start (shared like mailpit)
#   firebase-emulator-kill   stop the emulator now, whoever uses it
#   status         print the state of each service (never fails)
#
# Environment:
#   CASHLESS_AUTH_TEST_DATABASE_URL  if set, only check this database (never start one)
#   CASHLESS_AUTH_TEST_REDIS_URL     if set, only check this Redis (never start one)
#   CASHLESS_AUTH_TOOLS              tool cache (default $HOME/.cache/cashless-auth);
#                                    mailpit's pid and log live in its run/ dir
#   CASHLESS_AUTH_MAILPIT_SMTP       mailpit SMTP address (default 127.0.0.1:1025)
#   CASHLESS_AUTH_MAILPIT_HTTP       mailpit HTTP/API address (default 127.0.0.1:8025)
#   CASHLESS_AUTH_FIREBASE_AUTH      Auth emulator address (default 127.0.0.1:9099)
#   SERVICES_WAIT                    seconds to wait for readiness (default 30)
#   FIREBASE_EMULATOR_WAIT           seconds to wait for the emulator (default 120)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_DIR=${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
RUN_DIR=$TOOLS_DIR/run
WAIT=${SERVICES_WAIT:-30}

MAILPIT_SMTP=${CASHLESS_AUTH_MAILPIT_SMTP:-127.0.0.1:1025}
MAILPIT_HTTP=${CASHLESS_AUTH_MAILPIT_HTTP:-127.0.0.1:8025}
MAILPIT_LOG=$RUN_DIR/mailpit.log

FIREBASE_AUTH_ADDR=${CASHLESS_AUTH_FIREBASE_AUTH:-127.0.0.1:9099}
FIREBASE_PROJECT=demo-cashless
FIREBASE_DIR=$RUN_DIR/firebase
FIREBASE_LOG=$RUN_DIR/firebase-emulator.log
FIREBASE_WAIT=${FIREBASE_EMULATOR_WAIT:-120}

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.5 s until it succeeds.
wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			return 1
		fi
		sleep 0.5
	done
	log "$what is ready"
}

# --- PostgreSQL --------------------------------------------------------------

pg_ready() {
	if [[ -n ${CASHLESS_AUTH_TEST_DATABASE_URL:-} ]]; then
		pg_isready -q -t 3 -d "$CASHLESS_AUTH_TEST_DATABASE_URL"
	else
		pg_isready -q -t 3 -h 127.0.0.1 -p 5432
	fi
}

ensure_postgres() {
	command -v pg_isready >/dev/null 2>&1 || die "pg_isready not found (install postgresql-client)"
	if pg_ready; then
		log "PostgreSQL is ready"
		return 0
	fi
	if [[ -n ${CASHLESS_AUTH_TEST_DATABASE_URL:-} ]]; then
		log "PostgreSQL at CASHLESS_AUTH_TEST_DATABASE_URL is not ready; waiting up to ${WAIT}s (not starting anything)"
		wait_for "$WAIT" PostgreSQL pg_ready ||
			die "PostgreSQL at CASHLESS_AUTH_TEST_DATABASE_URL did not become ready within ${WAIT}s"
		return 0
	fi
	log "PostgreSQL on 127.0.0.1:5432 is down; starting it"
	command -v pg_ctlcluster >/dev/null 2>&1 || die "pg_ctlcluster not found; cannot start PostgreSQL"
	# shellcheck disable=SC2046 # one word per installed major version, as intended
	pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ||
		log "pg_ctlcluster returned $? (it may already be starting); waiting for it"
	wait_for "$WAIT" PostgreSQL pg_ready ||
		die "PostgreSQL on 127.0.0.1:5432 is not ready after ${WAIT}s (see /var/log/postgresql/)"
}

# --- Redis -------------------------------------------------------------------

redis_ready() {
	local out
	if [[ -n ${CASHLESS_AUTH_TEST_REDIS_URL:-} ]]; then
		out=$(timeout 5 redis-cli -u "$CASHLESS_AUTH_TEST_REDIS_URL" ping 2>/dev/null) || return 1
	else
		out=$(timeout 5 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) || return 1
	fi
	[[ $out == PONG ]]
}

ensure_redis() {
	command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (install redis-tools)"
	if redis_ready; then
		log "Redis is ready"
		return 0
	fi
	if [[ -n ${CASHLESS_AUTH_TEST_REDIS_URL:-} ]]; then
		log "Redis at CASHLESS_AUTH_TEST_REDIS_URL is not ready; waiting up to ${WAIT}s (not starting anything)"
		wait_for "$WAIT" Redis redis_ready ||
			die "Redis at CASHLESS_AUTH_TEST_REDIS_URL did not answer PING within ${WAIT}s"
		return 0
	fi
	log "Redis on 127.0.0.1:6379 is down; starting it"
	command -v redis-server >/dev/null 2>&1 || die "redis-server not found; cannot start Redis"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log ||
		log "redis-server returned $?; waiting for it anyway"
	wait_for "$WAIT" Redis redis_ready ||
		die "Redis on 127.0.0.1:6379 did not answer PING within ${WAIT}s (see /var/log/redis/ci.log)"
}

# --- Shared daemons ----------------------------------------------------------
# Several `make test` runs on one machine (several clones) share one mailpit and one Firebase
# Auth emulator: a start counts a user in $RUN_DIR/KEY.users, a stop leaves and stops the
# process only when the last user has left. Both hold $RUN_DIR/KEY.lock (fd 9, never passed to
# the daemon); $RUN_DIR/KEY.pid names the process, KEY.log is its output.

daemon_lock() { # daemon_lock KEY
	mkdir -p "$RUN_DIR"
	exec 9>"$RUN_DIR/$1.lock"
	if command -v flock >/dev/null 2>&1; then
		flock -w 120 9 || die "timed out waiting for $RUN_DIR/$1.lock"
	fi
}

# daemon_pid KEY COMM: prints the pid from KEY.pid when that process is alive and its command
# name starts with COMM.
daemon_pid() {
	local pid file=$RUN_DIR/$1.pid
	[[ -f $file ]] || return 1
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2"* ]] || return 1
	printf '%s\n' "$pid"
}

daemon_users() { # daemon_users KEY
	local n=0 file=$RUN_DIR/$1.users
	[[ -f $file ]] && n=$(<"$file")
	[[ $n =~ ^[0-9]+$ ]] || n=0
	printf '%s\n' "$n"
}

daemon_forget() { rm -f "$RUN_DIR/$1.pid" "$RUN_DIR/$1.users"; }

# daemon_join KEY COMM NAME READY URL: under KEY's lock, join a running daemon (ours: one more
# user; someone else's answering READY at URL: used as is). Fails when the caller must start it.
daemon_join() {
	local key=$1 comm=$2 name=$3 ready=$4 url=$5 pid users
	daemon_lock "$key"
	if pid=$(daemon_pid "$key" "$comm") && "$ready"; then
		users=$(($(daemon_users "$key") + 1))
		printf '%s\n' "$users" >"$RUN_DIR/$key.users"
		log "$name already running (pid $pid, $users users)"
		return 0
	fi
	if "$ready"; then
		log "something already answers on $url (not started by this script); using it"
		return 0
	fi
	return 1
}

# daemon_started KEY NAME READY PID SECONDS POLL HINT: records PID, waits for READY; a daemon
# that dies or stays unready is reported with its log's tail (HINT: the likely cause).
daemon_started() {
	local key=$1 name=$2 ready=$3 pid=$4 secs=$5 poll=$6 hint=$7 deadline log=$RUN_DIR/$1.log
	printf '%s\n' "$pid" >"$RUN_DIR/$key.pid"
	deadline=$((SECONDS + secs))
	until "$ready"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			daemon_forget "$key"
			tail -n 20 "$log" >&2 || true
			die "$name exited during startup (log above, full log $log; $hint)"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 20 "$log" >&2 || true
			daemon_kill "$pid" "$name"
			daemon_forget "$key"
			die "$name did not answer within ${secs}s"
		fi
		sleep "$poll"
	done
	printf '1\n' >"$RUN_DIR/$key.users"
	log "$name is ready (pid $pid)"
}

# daemon_stop KEY COMM NAME [force]: leave one user; stop the daemon when none is left (or at
# once with force).
daemon_stop() {
	local key=$1 comm=$2 name=$3 force=${4:-} pid users
	daemon_lock "$key"
	if ! pid=$(daemon_pid "$key" "$comm"); then
		log "$name is not running (no live pid in $RUN_DIR/$key.pid)"
		daemon_forget "$key"
		return 0
	fi
	users=$(daemon_users "$key")
	if [[ -z $force ]] && ((users > 1)); then
		printf '%s\n' "$((users - 1))" >"$RUN_DIR/$key.users"
		log "$name (pid $pid) is still used by $((users - 1)) other run(s); leaving it up"
		return 0
	fi
	log "stopping $name (pid $pid)"
	daemon_kill "$pid" "$name"
	daemon_forget "$key"
}

# daemon_kill PID NAME: SIGTERM (both shut down cleanly on it), SIGKILL after 15 s.
daemon_kill() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 75; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	log "$2 (pid $pid) did not exit after 15s; sending SIGKILL"
	kill -9 "$pid" 2>/dev/null || true
}

# --- Mailpit -----------------------------------------------------------------

mailpit_api_ready() {
	curl -fsS --max-time 2 "http://$MAILPIT_HTTP/api/v1/info" >/dev/null 2>&1
}

mailpit_start() {
	local bin
	"$SCRIPT_DIR/tools.sh" mailpit
	bin=$TOOLS_DIR/bin/mailpit
	daemon_join mailpit mailpit mailpit mailpit_api_ready "http://$MAILPIT_HTTP/api/v1/info" && return 0
	log "starting mailpit: SMTP $MAILPIT_SMTP, HTTP $MAILPIT_HTTP (log $MAILPIT_LOG)"
	# stdin/stdout/stderr are detached so that a caller reading our output
	# through a pipe (CI, make) does not wait on mailpit to close it; fd 9
	# (the lock) is closed so mailpit does not hold it.
	# No --database: messages live in a temporary store removed on exit.
	nohup "$bin" \
		--smtp "$MAILPIT_SMTP" \
		--listen "$MAILPIT_HTTP" \
		--smtp-auth-accept-any \
		--smtp-auth-allow-insecure \
		--smtp-disable-rdns \
		--disable-version-check \
		</dev/null >"$MAILPIT_LOG" 2>&1 9>&- &
	daemon_started mailpit mailpit mailpit_api_ready $! "$WAIT" 0.2 "is 127.0.0.1:1025 or :8025 taken?"
}

mailpit_stop() { daemon_stop mailpit mailpit mailpit "${1:-}"; }

# --- Firebase Auth emulator --------------------------------------------------
# firebase-tools runs the Auth emulator in a Node process (no Java needed). Tests
# reach it through FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099 (Makefile TEST_ENV).
# A "demo-" project needs no Google account and never calls Google.

firebase_emulator_ready() {
	curl -fsS --max-time 2 "http://$FIREBASE_AUTH_ADDR/" >/dev/null 2>&1
}

firebase_emulator_start() {
	local bin host port
	"$SCRIPT_DIR/tools.sh" firebase
	bin=$(PATH="$("$SCRIPT_DIR/tools.sh" path):$PATH" command -v firebase) ||
		die "firebase not on the tool path after tools.sh firebase"
	daemon_join firebase-emulator node "the Firebase Auth emulator" firebase_emulator_ready "http://$FIREBASE_AUTH_ADDR/" && return 0
	host=${FIREBASE_AUTH_ADDR%:*} port=${FIREBASE_AUTH_ADDR##*:}
	mkdir -p "$FIREBASE_DIR"
	# A minimal project: the Auth emulator only and no UI (the CLI still opens its
	# hub on 4400 and logging on 4500). singleProjectMode off: admin REST calls
	# name the project in their path and need no warning.
	cat >"$FIREBASE_DIR/firebase.json" <<JSON
{
  "emulators": {
    "auth": {"host": "$host", "port": $port},
    "ui": {"enabled": false},
    "singleProjectMode": false
  }
}
JSON
	log "starting the Firebase Auth emulator on http://$FIREBASE_AUTH_ADDR, project $FIREBASE_PROJECT (log $FIREBASE_LOG)"
	# Detached stdio and fd 9 closed, as for mailpit; no prompts, no update check.
	(cd "$FIREBASE_DIR" &&
		NO_UPDATE_NOTIFIER=1 exec nohup "$bin" emulators:start --only auth \
			--project "$FIREBASE_PROJECT" --config "$FIREBASE_DIR/firebase.json" --non-interactive \
			</dev/null >"$FIREBASE_LOG" 2>&1 9>&-) &
	# About 6 s on an idle machine, but the start is CPU-bound (the emulator compiles
	# its API spec): allow much more on a loaded CI runner.
	daemon_started firebase-emulator "the Firebase Auth emulator" firebase_emulator_ready $! "$FIREBASE_WAIT" 0.3 "is $FIREBASE_AUTH_ADDR taken?"
}

firebase_emulator_stop() { daemon_stop firebase-emulator node "the Firebase Auth emulator" "${1:-}"; }

status() {
	if pg_ready 2>/dev/null; then log "PostgreSQL: up"; else log "PostgreSQL: DOWN"; fi
	if redis_ready; then log "Redis: up"; else log "Redis: DOWN"; fi
	if mailpit_api_ready 2>/dev/null; then log "mailpit: up"; else log "mailpit: down"; fi
	if firebase_emulator_ready; then log "Firebase Auth emulator: up"; else log "Firebase Auth emulator: down"; fi
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
}

main() {
	[[ $# -gt 0 ]] || { usage; exit 2; }
	local cmd
	for cmd in "$@"; do
		case $cmd in
		ensure) ensure_postgres; ensure_redis ;;
		mailpit-start) mailpit_start ;;
		mailpit-stop) mailpit_stop ;;
		mailpit-kill) mailpit_stop force ;;
		firebase-emulator-start) firebase_emulator_start ;;
		firebase-emulator-stop) firebase_emulator_stop ;;
		firebase-emulator-kill) firebase_emulator_stop force ;;
		status) status ;;
		-h | --help | help) usage ;;
		*) usage; die "unknown subcommand: $cmd" ;;
		esac
	done
}

# All code is in functions and the file ends in `exit`: editing it cannot
# change what a running copy executes.
main "$@"
exit
