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
MAILPIT_PIDFILE=$RUN_DIR/mailpit.pid
MAILPIT_LOG=$RUN_DIR/mailpit.log
MAILPIT_USERS=$RUN_DIR/mailpit.users

FIREBASE_AUTH_ADDR=${CASHLESS_AUTH_FIREBASE_AUTH:-127.0.0.1:9099}
FIREBASE_PROJECT=demo-cashless
FIREBASE_DIR=$RUN_DIR/firebase
FIREBASE_PIDFILE=$RUN_DIR/firebase-emulator.pid
FIREBASE_LOG=$RUN_DIR/firebase-emulator.log
FIREBASE_USERS=$RUN_DIR/firebase-emulator.users
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

# --- Mailpit -----------------------------------------------------------------

mailpit_api_ready() {
	curl -fsS --max-time 2 "http://$MAILPIT_HTTP/api/v1/info" >/dev/null 2>&1
}

# Prints the pid from the pid file when that process is alive and is mailpit.
mailpit_pid() {
	local pid
	[[ -f $MAILPIT_PIDFILE ]] || return 1
	pid=$(<"$MAILPIT_PIDFILE")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == mailpit* ]] || return 1
	printf '%s\n' "$pid"
}

# Several `make test` runs on one machine (several clones) share one mailpit:
# mailpit-start counts its users in $MAILPIT_USERS and mailpit-stop stops the
# process only when the last one leaves. Both hold $RUN_DIR/mailpit.lock.
mailpit_lock() {
	mkdir -p "$RUN_DIR"
	exec 8>"$RUN_DIR/mailpit.lock"
	if command -v flock >/dev/null 2>&1; then
		flock -w 120 8 || die "timed out waiting for $RUN_DIR/mailpit.lock"
	fi
}

mailpit_users() {
	local n=0
	[[ -f $MAILPIT_USERS ]] && n=$(<"$MAILPIT_USERS")
	[[ $n =~ ^[0-9]+$ ]] || n=0
	printf '%s\n' "$n"
}

mailpit_start() {
	local bin pid users deadline
	"$SCRIPT_DIR/tools.sh" mailpit
	bin=$TOOLS_DIR/bin/mailpit
	mailpit_lock
	if pid=$(mailpit_pid) && mailpit_api_ready; then
		users=$(($(mailpit_users) + 1))
		printf '%s\n' "$users" >"$MAILPIT_USERS"
		log "mailpit already running (pid $pid, $users users)"
		return 0
	fi
	if mailpit_api_ready; then
		log "something already answers on http://$MAILPIT_HTTP/api/v1/info (not started by this script); using it"
		return 0
	fi
	log "starting mailpit: SMTP $MAILPIT_SMTP, HTTP $MAILPIT_HTTP (log $MAILPIT_LOG)"
	# stdin/stdout/stderr are detached so that a caller reading our output
	# through a pipe (CI, make) does not wait on mailpit to close it; fd 8
	# (the lock) is closed so mailpit does not hold it.
	# No --database: messages live in a temporary store removed on exit.
	nohup "$bin" \
		--smtp "$MAILPIT_SMTP" \
		--listen "$MAILPIT_HTTP" \
		--smtp-auth-accept-any \
		--smtp-auth-allow-insecure \
		--smtp-disable-rdns \
		--disable-version-check \
		</dev/null >"$MAILPIT_LOG" 2>&1 8>&- &
	pid=$!
	printf '%s\n' "$pid" >"$MAILPIT_PIDFILE"
	deadline=$((SECONDS + WAIT))
	until mailpit_api_ready; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$MAILPIT_PIDFILE" "$MAILPIT_USERS"
			tail -n 20 "$MAILPIT_LOG" >&2 || true
			die "mailpit exited during startup (log above, full log $MAILPIT_LOG; is 127.0.0.1:1025 or :8025 taken?)"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 20 "$MAILPIT_LOG" >&2 || true
			kill "$pid" 2>/dev/null || true
			rm -f "$MAILPIT_PIDFILE" "$MAILPIT_USERS"
			die "mailpit API did not answer on http://$MAILPIT_HTTP within ${WAIT}s"
		fi
		sleep 0.2
	done
	printf '1\n' >"$MAILPIT_USERS"
	log "mailpit is ready (pid $pid)"
}

# mailpit_stop [force]: leave one user; stop mailpit when none is left (or at once with force).
mailpit_stop() {
	local force=${1:-} pid users i
	mailpit_lock
	if ! pid=$(mailpit_pid); then
		log "mailpit is not running (no live pid in $MAILPIT_PIDFILE)"
		rm -f "$MAILPIT_PIDFILE" "$MAILPIT_USERS"
		return 0
	fi
	users=$(mailpit_users)
	if [[ -z $force ]] && ((users > 1)); then
		printf '%s\n' "$((users - 1))" >"$MAILPIT_USERS"
		log "mailpit (pid $pid) is still used by $((users - 1)) other run(s); leaving it up"
		return 0
	fi
	log "stopping mailpit (pid $pid)"
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "mailpit did not exit after 10s; sending SIGKILL"
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$MAILPIT_PIDFILE" "$MAILPIT_USERS"
}

# --- Firebase Auth emulator --------------------------------------------------
# firebase-tools runs the Auth emulator in a Node process (no Java needed). Tests
# reach it through FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099 (Makefile TEST_ENV).
# A "demo-" project needs no Google account and never calls Google. Shared by
# concurrent `make test` runs like mailpit: users are counted under a lock.

firebase_emulator_ready() {
	curl -fsS --max-time 2 "http://$FIREBASE_AUTH_ADDR/" >/dev/null 2>&1
}

# Prints the pid from the pid file when that process is alive and is Node.
firebase_emulator_pid() {
	local pid
	[[ -f $FIREBASE_PIDFILE ]] || return 1
	pid=$(<"$FIREBASE_PIDFILE")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == node* ]] || return 1
	printf '%s\n' "$pid"
}

firebase_emulator_lock() {
	mkdir -p "$RUN_DIR"
	exec 7>"$RUN_DIR/firebase-emulator.lock"
	if command -v flock >/dev/null 2>&1; then
		flock -w 120 7 || die "timed out waiting for $RUN_DIR/firebase-emulator.lock"
	fi
}

firebase_emulator_users() {
	local n=0
	[[ -f $FIREBASE_USERS ]] && n=$(<"$FIREBASE_USERS")
	[[ $n =~ ^[0-9]+$ ]] || n=0
	printf '%s\n' "$n"
}

firebase_emulator_start() {
	local bin pid users deadline host port
	"$SCRIPT_DIR/tools.sh" firebase
	bin=$(PATH="$("$SCRIPT_DIR/tools.sh" path):$PATH" command -v firebase) ||
		die "firebase not on the tool path after tools.sh firebase"
	firebase_emulator_lock
	if pid=$(firebase_emulator_pid) && firebase_emulator_ready; then
		users=$(($(firebase_emulator_users) + 1))
		printf '%s\n' "$users" >"$FIREBASE_USERS"
		log "Firebase Auth emulator already running (pid $pid, $users users)"
		return 0
	fi
	if firebase_emulator_ready; then
		log "something already answers on http://$FIREBASE_AUTH_ADDR/ (not started by this script); using it"
		return 0
	fi
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
	# Detached stdio and fd 7 closed, as for mailpit; no prompts, no update check.
	(cd "$FIREBASE_DIR" &&
		NO_UPDATE_NOTIFIER=1 exec nohup "$bin" emulators:start --only auth \
			--project "$FIREBASE_PROJECT" --config "$FIREBASE_DIR/firebase.json" --non-interactive \
			</dev/null >"$FIREBASE_LOG" 2>&1 7>&-) &
	pid=$!
	printf '%s\n' "$pid" >"$FIREBASE_PIDFILE"
	# About 6 s on an idle machine, but the start is CPU-bound (the emulator compiles
	# its API spec): allow much more on a loaded CI runner.
	deadline=$((SECONDS + FIREBASE_WAIT))
	until firebase_emulator_ready; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$FIREBASE_PIDFILE" "$FIREBASE_USERS"
			tail -n 20 "$FIREBASE_LOG" >&2 || true
			die "the Firebase emulator exited during startup (log above, full log $FIREBASE_LOG; is $FIREBASE_AUTH_ADDR taken?)"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 20 "$FIREBASE_LOG" >&2 || true
			firebase_emulator_kill "$pid"
			rm -f "$FIREBASE_PIDFILE" "$FIREBASE_USERS"
			die "the Firebase Auth emulator did not answer on http://$FIREBASE_AUTH_ADDR within ${FIREBASE_WAIT}s"
		fi
		sleep 0.3
	done
	printf '1\n' >"$FIREBASE_USERS"
	log "Firebase Auth emulator is ready (pid $pid)"
}

# firebase_emulator_stop [force]: leave one user; stop the emulator when none is left.
firebase_emulator_stop() {
	local force=${1:-} pid users
	firebase_emulator_lock
	if ! pid=$(firebase_emulator_pid); then
		log "the Firebase emulator is not running (no live pid in $FIREBASE_PIDFILE)"
		rm -f "$FIREBASE_PIDFILE" "$FIREBASE_USERS"
		return 0
	fi
	users=$(firebase_emulator_users)
	if [[ -z $force ]] && ((users > 1)); then
		printf '%s\n' "$((users - 1))" >"$FIREBASE_USERS"
		log "the Firebase emulator (pid $pid) is still used by $((users - 1)) other run(s); leaving it up"
		return 0
	fi
	log "stopping the Firebase emulator (pid $pid)"
	firebase_emulator_kill "$pid"
	rm -f "$FIREBASE_PIDFILE" "$FIREBASE_USERS"
}

# firebase_emulator_kill PID: SIGTERM (the CLI shuts the emulator down cleanly), SIGKILL after 15 s.
firebase_emulator_kill() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 75; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	log "the Firebase emulator (pid $pid) did not exit after 15s; sending SIGKILL"
	kill -9 "$pid" 2>/dev/null || true
}

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
