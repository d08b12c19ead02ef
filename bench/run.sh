#!/usr/bin/env bash
# bench/run.sh — `make bench`: the load test of issue 7, the real binary against PostgreSQL + Redis
# on loopback beside the bare net/http + gorilla/mux baseline, in one run, with ratios.
#
#   a  baseline POST /tokens/verify saturation throughput (wrk)
#   b  real POST /tokens/verify, valid access tokens (BENCH_TOKENS of them), every protection on,
#      rotating X-Forwarded-For over BENCH_IPS client addresses (each under its 600/min cap),
#      saturation throughput (wrk); a and b alternate BENCH_REPS times
#   c  the same at half of b's rate, constant rate (bench/loadgen, or vegeta), p50 / p99 / p99.9
#   c0 the baseline at that same rate: the floor of the method (load tool and machine jitter)
#   d  the 429 path: one client IP hammering (hey), count and throughput of 429s
#   e  password login at the OWASP argon2id parameters: saturation logins/s (wrk), then a login
#      flood with c's verify load beside it: verify p99 under flood / idle, peak RSS (VmHWM)
#   q  (BENCH_QUOTA=1) e2's flood and verify load with the server free on BENCH_QUOTA_CPUS, in a
#      child cgroup: q0 without a quota, q1 with a 1-CPU CFS quota (Kubernetes' limits.cpu: "1");
#      verify p99 of each and the group's throttling (cpu.stat). cgroup v1 or v2, root needed;
#      without a usable cgroup q1 is SKIPPED with the reason
#   b' (BENCH_ACCESS_LOG=1) b again with log.level=info, i.e. one access-log line per request,
#      paired with a baseline run right after it
#   f  cold start of the embedded default to the first /health 200, median of 5
#   g  (BENCH_GO=1) go test benchmarks: the pieces, the in-process verify benchmark, a CPU profile
#   h  gateway forward-auth: GET /auth/forward with b's tokens as Authorization: Bearer, rotating
#      X-Forwarded-For, against the baseline's GET /auth/forward (bearer read, nothing checked),
#      interleaved BENCH_REPS times like a and b; target >= 0.70 of the baseline
#
# The server runs on CPU BENCH_SERVER_CPU (0), every load generator on BENCH_LOAD_CPU (1), with
# taskset. PostgreSQL and Redis are the machine's, unpinned. All loads are bounded in time, go to
# 127.0.0.1 only and stop by themselves; every process started here is stopped on exit.
#
# Output: the run's log on stdout and in bench/results/latest.log, the summary table in
# bench/results/latest.txt, the CPU profile's top in bench/results/verify-profile.txt.
#
# Environment (defaults in brackets):
#   BENCH_DURATION [5]         seconds of each saturation run (a, b, b', d)
#   BENCH_REPS [3]             a and b alternate this many times (the host's speed drifts)
#   BENCH_TOKENS [500] BENCH_SESSIONS [20]    distinct access tokens the verify loads rotate
#                              through, minted by that many logins and their refresh chains
#   BENCH_WARMUP [5]           seconds of b's warm-up: one pass over every client address
#   BENCH_LAT_DURATION [20]    seconds of each constant-rate latency run (c, e's flood)
#   BENCH_LOGIN_DURATION [15]  seconds of the login saturation run
#   BENCH_CONNS [64]           wrk/hey connections for verify
#   BENCH_LOGIN_CONNS [16]     wrk connections for logins
#   BENCH_IPS [20000]          distinct X-Forwarded-For client addresses (10.a.b.c)
#   BENCH_PORT [18080] BENCH_BASELINE_PORT [18090]
#   BENCH_SERVER_CPU [0] BENCH_LOAD_CPU [1]
#   BENCH_PG_ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable]
#   BENCH_DB [cashless_bench]  dropped and recreated at start, dropped at exit
#   BENCH_REDIS_URL [redis://127.0.0.1:6379/0]   keys under a fresh prefix, deleted at exit
#   BENCH_QUOTA [1]  BENCH_QUOTA_CPUS [SERVER_CPU,LOAD_CPU]  BENCH_QUOTA_US [100000] (per 100 ms)
#   BENCH_QUOTA_RATE [c's rate]  BENCH_ONLY=quota: the setup and the q phases only (verify at
#                              half of one b run unless BENCH_QUOTA_RATE), summary in
#                              bench/results/quota.txt
#   BENCH_ACCESS_LOG [1]  BENCH_GO [1]  BENCH_COLDSTART_RUNS [5]
#   BENCH_ONLY [""]            "forward": the setup and phase h only, summary in
#                              bench/results/forward.txt (log forward-latest.log)
#   BENCH_QUIET_MAX [10] BENCH_QUIET_WAIT [60]  before each phase, wait up to QUIET_WAIT s for the
#                              machine to be at most QUIET_MAX % busy (other work skews the figures)
#   BENCH_FOREIGN_MAX [5]      flag a phase DISTURBED when other processes used more of the CPUs
#   BENCH_LATENCY_TOOL [loadgen]  constant-rate tool of c, c0, e2: loadgen (bench/loadgen) or
#                              vegeta (go-installed, pinned; its own floor on one CPU is tens of ms
#                              of p99 near 10 000 req/s: see docs/performance.md; it sends the
#                              first token only)
#   CASHLESS_AUTH_TOOLS [~/.cache/cashless-auth]  vegeta is go-installed into its bin/
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-5}
REPS=${BENCH_REPS:-3}
NTOKENS=${BENCH_TOKENS:-500}
NSESSIONS=${BENCH_SESSIONS:-20}
WARMUP=${BENCH_WARMUP:-5}
LAT_DURATION=${BENCH_LAT_DURATION:-20}
LOGIN_DURATION=${BENCH_LOGIN_DURATION:-15}
CONNS=${BENCH_CONNS:-64}
LOGIN_CONNS=${BENCH_LOGIN_CONNS:-16}
NIPS=${BENCH_IPS:-20000}
PORT=${BENCH_PORT:-18080}
BASE_PORT=${BENCH_BASELINE_PORT:-18090}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
DB_NAME=${BENCH_DB:-cashless_bench}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
ACCESS_LOG_RUN=${BENCH_ACCESS_LOG:-1}
GO_BENCH=${BENCH_GO:-1}
ONLY=${BENCH_ONLY:-}
COLD_RUNS=${BENCH_COLDSTART_RUNS:-5}
QUOTA_RUN=${BENCH_QUOTA:-1}
QUOTA_CPUS=${BENCH_QUOTA_CPUS:-$SERVER_CPU,$LOAD_CPU}
QUOTA_US=${BENCH_QUOTA_US:-100000}
QUOTA_PERIOD=100000
QUOTA_RATE=${BENCH_QUOTA_RATE:-}
QUIET_MAX=${BENCH_QUIET_MAX:-10}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
FOREIGN_MAX=${BENCH_FOREIGN_MAX:-5}
TOOLS_DIR=${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
BIN_DIR=$TOOLS_DIR/bin
VEGETA_MODULE=github.com/tsenart/vegeta/v12
VEGETA_VERSION=v12.13.0
LAT_TOOL=${BENCH_LATENCY_TOOL:-loadgen}
HEY_MODULE=github.com/rakyll/hey
HEY_VERSION=v0.1.4

RESULTS=$ROOT/bench/results
WORK=$(mktemp -d /tmp/cashless-bench.XXXXXX)
LOG=$WORK/run.log
mkdir -p "$RESULTS"
export PATH=$BIN_DIR:$PATH

# The caller's CASHLESS_AUTH_* settings must not leak into the servers started here.
for v in $(compgen -e); do
	case $v in CASHLESS_AUTH_TOOLS | CASHLESS_AUTH_TEST_*) ;; CASHLESS_AUTH_*) unset "$v" ;; esac
done

exec > >(tee "$LOG") 2>&1
say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

# ---- cleanup -----------------------------------------------------------------------------------
PIDS=()
SERVER_PID=
BASELINE_PID=
REDIS_PREFIX=
DB_CREATED=
QUOTA_CG= QUOTA_ROOT=
# quota_cgroup_remove: the q phases' cgroup goes; a process still in it (a hash worker outliving
# its parent) moves back to the hierarchy's root first.
quota_cgroup_remove() {
	local pid
	[[ -n $QUOTA_CG && -d $QUOTA_CG ]] || return 0
	# The hash workers die with the server but a moment after it: give them a second.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		while read -r pid; do
			echo "$pid" >"$QUOTA_ROOT/cgroup.procs" 2>/dev/null || true
		done <"$QUOTA_CG/cgroup.procs"
		rmdir "$QUOTA_CG" 2>/dev/null && { QUOTA_CG=; return 0; }
		sleep 0.1
	done
	say "  WARNING: could not remove the cgroup $QUOTA_CG: $(wc -l <"$QUOTA_CG/cgroup.procs") process(es) in it"
}
cleanup() {
	local rc=$? pid
	set +e
	for pid in "${PIDS[@]}" $SERVER_PID; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}" $SERVER_PID; do
		wait "$pid" 2>/dev/null
	done
	quota_cgroup_remove
	if [[ -n $REDIS_PREFIX ]]; then
		redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
			xargs -r -n 500 redis-cli -u "$REDIS_URL" unlink >/dev/null 2>&1
	fi
	if [[ -n $DB_CREATED ]]; then
		psql "$PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1
	fi
	[[ -f $LOG ]] && cp "$LOG" "$RESULTS/${ONLY:+$ONLY-}latest.log"
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools -------------------------------------------------------------------------------------
SUDO=
[[ $EUID -eq 0 ]] || SUDO=sudo
APT_UPDATED=
apt_install() {
	if [[ -z $APT_UPDATED ]]; then
		$SUDO apt-get update -qq
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# go_tool NAME MODULE PACKAGE VERSION: go install into the tool cache unless that version is there.
go_tool() {
	local name=$1 mod=$2 pkg=$3 version=$4 have
	# Not installed yet: go version fails, have stays empty (|| true: pipefail and set -e).
	have=$(go version -m "$BIN_DIR/$name" 2>/dev/null | awk -v m="$mod" '$1=="mod" && $2==m {print $3}' || true)
	[[ $have == "$version" ]] && return 0
	say "installing $name $version (go install $pkg@$version, GOBIN=$BIN_DIR)"
	mkdir -p "$BIN_DIR"
	(cd "$TOOLS_DIR" && GOBIN=$BIN_DIR go install "$pkg@$version") || die "go install $pkg@$version failed"
}

ensure_tools() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v taskset >/dev/null || missing+=(util-linux)
	command -v curl >/dev/null || missing+=(curl)
	command -v psql >/dev/null || missing+=(postgresql-client)
	command -v redis-cli >/dev/null || missing+=(redis-tools)
	if ! command -v hey >/dev/null; then
		[[ -n $APT_UPDATED ]] || { $SUDO apt-get update -qq && APT_UPDATED=1; }
		# Read the whole policy first: grep -q closing the pipe early fails it under pipefail.
		local policy
		policy=$(apt-cache policy hey 2>/dev/null || true)
		if grep -q 'Candidate: [0-9]' <<<"$policy"; then
			missing+=(hey)
		else
			go_tool hey "$HEY_MODULE" "$HEY_MODULE" "$HEY_VERSION"
		fi
	fi
	if ((${#missing[@]})); then
		say "installing Debian packages: ${missing[*]}"
		apt_install "${missing[@]}"
	fi
	if [[ $LAT_TOOL == vegeta ]]; then
		go_tool vegeta "$VEGETA_MODULE" "$VEGETA_MODULE" "$VEGETA_VERSION"
	fi
}

# ---- measurement helpers -----------------------------------------------------------------------
# cpu_ticks N: "busy total" jiffies of CPU N ('' for all CPUs), from /proc/stat.
cpu_ticks() {
	awk -v c="cpu$1" '$1==c {t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t}' /proc/stat
}
# steal_ticks N: "steal total" jiffies of CPU N: time the hypervisor ran something else while
# this VM's vCPU wanted to run. A few ms of it at a time is a latency stall no code can avoid.
steal_ticks() {
	awk -v c="cpu$1" '$1==c {t=0; for (i=2; i<=NF; i++) t+=$i; print $9, t}' /proc/stat
}
# busy_pct "b0 t0" "b1 t1"
busy_pct() {
	local b0 t0 b1 t1
	read -r b0 t0 <<<"$1"
	read -r b1 t1 <<<"$2"
	awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", t ? 100*b/t : 0}'
}
# Foreign CPU: what processes other than this run's (the servers, PostgreSQL, Redis, the load
# generators and this script's children) used during a phase, as a share of both CPUs. Another
# build or test suite on the machine lands on the pinned CPUs and skews the figures, so each
# phase reports it and a phase above BENCH_FOREIGN_MAX % is flagged DISTURBED.
proc_ticks() { # utime+stime (+cutime+cstime with "c") of the given pids
	local with_children=$1 pid
	shift
	for pid in "$@"; do
		[[ -r /proc/$pid/stat ]] && sed 's/.*) //' "/proc/$pid/stat"
	done | awk -v c="$with_children" '{t += $12 + $13; if (c == "c") t += $14 + $15} END {print t + 0}'
}
server_children() { [[ -n $SERVER_PID ]] && pgrep -P "$SERVER_PID" || true; }
# rss_kb FIELD: FIELD (VmRSS, VmHWM) of the server plus its hash workers, in KiB.
rss_kb() {
	local pid t=0 v
	for pid in $SERVER_PID $(server_children); do
		v=$(awk -v f="$1:" '$1 == f {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
ours_ticks() {
	local a b
	# shellcheck disable=SC2046 # one pid per word
	# The server's children are its hash workers (password.process).
	a=$(proc_ticks - $SERVER_PID $(server_children) $BASELINE_PID $(pgrep -x redis-server) $(pgrep -x postgres))
	b=$(proc_ticks c $$)
	echo $((a + b))
}
all_ticks() { # user+nice+system and total over all CPUs
	awk '$1=="cpu" {t=0; for (i=2; i<=NF; i++) t+=$i; print $2+$3+$4, t}' /proc/stat
}
PHASE_T0= PHASE_O0=
phase_begin() {
	PHASE_T0=$(all_ticks)
	PHASE_O0=$(ours_ticks)
}
FOREIGN_REPORT=()
phase_end() { # phase_end NAME: sets FOREIGN (% of both CPUs)
	local t1 o1 u0 tt0 u1 tt1
	t1=$(all_ticks)
	o1=$(ours_ticks)
	read -r u0 tt0 <<<"$PHASE_T0"
	read -r u1 tt1 <<<"$t1"
	FOREIGN=$(awk -v u=$((u1 - u0)) -v o=$((o1 - PHASE_O0)) -v t=$((tt1 - tt0)) \
		'BEGIN {f = t ? 100 * (u - o) / t : 0; if (f < 0) f = 0; printf "%.0f", f}')
	FOREIGN_REPORT+=("$1:$FOREIGN%")
	if ((FOREIGN > FOREIGN_MAX)); then
		say "  WARNING: other processes used $FOREIGN% of both CPUs during $1: its figures are disturbed"
		DISTURBED+=("$1(foreign $FOREIGN%)")
	else
		say "  other processes during $1: $FOREIGN% of both CPUs"
	fi
}

# quiet PHASE: the machine must be idle before a phase (other work, a build or a test suite,
# would land on the pinned CPUs and skew the figures): wait up to BENCH_QUIET_WAIT seconds for
# both CPUs to be at most BENCH_QUIET_MAX % busy over one second, else go on and say so.
BG_MAX=0
DISTURBED=()
quiet() {
	local phase=$1 c0 c1 b waited=0
	while :; do
		c0=$(cpu_ticks '')
		sleep 1
		c1=$(cpu_ticks '')
		b=$(busy_pct "$c0" "$c1")
		((b <= QUIET_MAX)) && break
		if ((waited == 0)); then
			say "  the machine is busy ($b% of both CPUs, other processes): waiting up to ${QUIET_WAIT}s for <= $QUIET_MAX%"
		fi
		if ((waited >= QUIET_WAIT)); then
			say "  WARNING: still $b% busy: phase $phase starts on a busy machine"
			break
		fi
		waited=$((waited + 1))
	done
	((b > BG_MAX)) && BG_MAX=$b
	say "  background CPU before $phase: $b% of both CPUs"
}

mean() { printf '%s\n' "$@" | awk '{s += $1} END {printf "%.0f", s / NR}'; }
# field NAME FILE: value of NAME=... on the BENCH line of FILE.
field() { sed -n "s/^BENCH.* $1=\([^ ]*\).*/\1/p" "$2" | head -1; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }

# wrk_run NAME URL SCRIPT SECONDS CONNS [VAR=VALUE...]: saturation run; sets RPS, NON2XX, ERRS, BUSY.
wrk_run() {
	local name=$1 url=$2 script=$3 secs=$4 conns=$5 out=$WORK/$1.wrk c0 c1 l0 l1
	shift 5
	phase_begin
	c0=$(cpu_ticks "$SERVER_CPU") l0=$(cpu_ticks "$LOAD_CPU")
	env BENCH_IPS="$NIPS" BENCH_THREADS=1 "$@" \
		taskset -c "$LOAD_CPU" wrk -t1 -c"$conns" -d"${secs}s" --timeout 30s -s "$script" "$url" >"$out" 2>&1 ||
		{ cat "$out"; die "wrk $name failed"; }
	c1=$(cpu_ticks "$SERVER_CPU") l1=$(cpu_ticks "$LOAD_CPU")
	LBUSY=$(busy_pct "$l0" "$l1")
	phase_end "$name"
	sed 's/^/    /' "$out"
	local req dur
	req=$(field requests "$out")
	dur=$(field duration_us "$out")
	NON2XX=$(field non2xx "$out")
	ERRS=$(($(field connect "$out") + $(field read "$out") + $(field write "$out") + $(field timeout "$out")))
	RPS=$(calc '%.0f' "$req / ($dur / 1e6)")
	BUSY=$(busy_pct "$c0" "$c1")
	say "  -> $name: $RPS req/s, non-2xx $NON2XX, socket errors $ERRS; busy: server CPU $SERVER_CPU $BUSY%, load CPU $LOAD_CPU $LBUSY%"
}

# targets FILE URL BODY: vegeta JSON targets, one per client address, rotating X-Forwarded-For.
targets() {
	local b64
	b64=$(printf '%s' "$3" | base64 -w0)
	awk -v n="$NIPS" -v url="$2" -v body="$b64" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"method\":\"POST\",\"url\":\"%s\",\"body\":\"%s\",\"header\":{\"Content-Type\":[\"application/json\"],\"X-Forwarded-For\":[\"10.%d.%d.%d\"]}}\n",
				url, body, int(i / 65536) % 256, int(i / 256) % 256, i % 256
	}' >"$1"
}

# lat_run NAME RATE SECONDS BASE_URL [nested]: constant-rate POST /tokens/verify with a rotating
# X-Forwarded-For; sets P50 P99 P999 (service latency, ms), CP99 (corrected p99, loadgen only),
# ACHIEVED, SUCCESS, CODES, BUSY, LBUSY, HELD. With "nested" the caller accounts foreign CPU.
lat_run() {
	local name=$1 rate=$2 secs=$3 url=$4 own=${5:-} c0 c1 l0 l1 s0 s1
	[[ -n $own ]] || phase_begin
	c0=$(cpu_ticks "$SERVER_CPU") l0=$(cpu_ticks "$LOAD_CPU") s0=$(steal_ticks "$SERVER_CPU")
	if [[ $LAT_TOOL == vegeta ]]; then
		local targets=$WORK/targets-${url##*:}.json
		[[ -f $targets ]] || targets "$targets" "$url/tokens/verify" "$(head -1 "$BODIES")"
		taskset -c "$LOAD_CPU" vegeta attack -format=json -targets="$targets" -rate="$rate/1s" \
			-duration="${secs}s" -timeout=10s -keepalive=true -max-workers=1024 -max-connections="$CONNS" \
			>"$WORK/$name.vegeta" || die "vegeta $name failed"
	else
		taskset -c "$LOAD_CPU" "$WORK/loadgen" -addr "${url#http://}" -path /tokens/verify -bodies "$BODIES" \
			-ips "$NIPS" -rate "$rate" -duration "${secs}s" -conns "$CONNS" >"$WORK/$name.loadgen" ||
			die "loadgen $name failed"
	fi
	c1=$(cpu_ticks "$SERVER_CPU") l1=$(cpu_ticks "$LOAD_CPU") s1=$(steal_ticks "$SERVER_CPU")
	[[ -n $own ]] || phase_end "$name"
	BUSY=$(busy_pct "$c0" "$c1") LBUSY=$(busy_pct "$l0" "$l1")
	STEAL=$(awk -v a="$s0" -v b="$s1" 'BEGIN {split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.1f", t ? 100 * (y[1] - x[1]) / t : 0}')
	if [[ $LAT_TOOL == vegeta ]]; then
		local bin=$WORK/$name.vegeta
		vegeta report -type=json <"$bin" >"$WORK/$name.json"
		vegeta report <"$bin" | sed 's/^/    /'
		vegeta encode -to=csv <"$bin" | awk -F, '{print $3}' | sort -n >"$WORK/$name.lat"
		read -r P50 P99 P999 < <(awk '{a[NR]=$1} END {
			n = NR; split("0.50 0.99 0.999", q, " ")
			for (i = 1; i <= 3; i++) { k = int(q[i] * n + 0.999999); if (k < 1) k = 1; if (k > n) k = n; printf "%.3f ", a[k] / 1e6 }
			print ""
		}' "$WORK/$name.lat")
		CP99=n/a
		ACHIEVED=$(jq -r '.throughput' "$WORK/$name.json" | awk '{printf "%.0f", $1}')
		SUCCESS=$(jq -r '.success * 100' "$WORK/$name.json" | awk '{printf "%.2f", $1}')
		CODES=$(jq -c '.status_codes' "$WORK/$name.json")
	else
		local out=$WORK/$name.loadgen
		grep -v '^BENCH' "$out" | sed 's/^/    /'
		P50=$(field p50_ms "$out") P99=$(field p99_ms "$out") P999=$(field p999_ms "$out") CP99=$(field cp99_ms "$out")
		ACHIEVED=$(field achieved "$out")
		SUCCESS=$(calc '%.2f' "100 * ($(field answers "$out") - $(field non2xx "$out")) / $(field requests "$out")")
		CODES=$(field codes "$out")
	fi
	HELD=yes
	if ((ACHIEVED * 100 < rate * 95)); then
		HELD=no
		say "  WARNING: only $ACHIEVED of $rate req/s were answered in time (the server or the load tool fell behind)"
	fi
	say "  -> $name: target $rate req/s, achieved $ACHIEVED req/s, success $SUCCESS%, codes $CODES"
	say "     p50 $P50 ms, p99 $P99 ms, p99.9 $P999 ms (corrected p99 $CP99 ms); busy: server CPU $BUSY%, load CPU $LBUSY%; steal on the server CPU $STEAL%"
}

wait_health() {
	local url=$1 pid=$2 i
	for ((i = 0; i < 300; i++)); do
		if [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/health" 2>/dev/null) == 200 ]]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

SERVER_ENV=()
start_server() { # start_server LOG_LEVEL
	SERVER_LOG=$WORK/server-$1.log
	# From $WORK, where no config.yaml is: defaults plus the environment.
	(cd "$WORK" && exec env "${SERVER_ENV[@]}" CASHLESS_AUTH_LOG_LEVEL="$1" \
		taskset -c "$SERVER_CPU" "$WORK/cashless-auth" serve) >"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	wait_health "$REAL" "$SERVER_PID" || { cat "$SERVER_LOG"; die "the server did not answer /health"; }
}
stop_server() {
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# ---- q: a CPU quota (cgroup) --------------------------------------------------------------------
# Kubernetes' limits.cpu is a CFS quota on the pod's cgroup: once the group has used its quota in
# a period (100 ms), every thread in it waits for the next period, whatever its scheduling class:
# the SCHED_IDLE hash workers and the request threads alike. The q phases run e2's load (login
# flood, verify at a constant rate) with the server free on BENCH_QUOTA_CPUS, in a child cgroup
# without a quota (q0) and with a 1-CPU quota (q1): the difference is what the limit costs verify.
# cgroup v1 (cpu.cfs_quota_us) where a v1 cpu hierarchy is mounted, else v2 (cpu.max).
quota_cgroup_create() {
	local root err
	QUOTA_CG= QUOTA_VER= QUOTA_WHY=
	root=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ {print $2; exit}' /proc/mounts)
	if [[ -n $root ]]; then
		QUOTA_VER=1
	else
		root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
		[[ -n $root ]] || { QUOTA_WHY="no cgroup hierarchy with the cpu controller is mounted"; return 1; }
		QUOTA_VER=2
		grep -qw cpu "$root/cgroup.controllers" 2>/dev/null ||
			{ QUOTA_WHY="the cgroup2 hierarchy at $root offers no cpu controller"; return 1; }
		# A child gets cpu.max only when its parent delegates the controller; in a container's
		# cgroup namespace that holds processes the kernel refuses it (EBUSY).
		if ! grep -qw cpu "$root/cgroup.subtree_control"; then
			err=$(echo +cpu 2>&1 >"$root/cgroup.subtree_control") ||
				{ QUOTA_WHY="cannot enable cpu in $root/cgroup.subtree_control: ${err##*: }"; return 1; }
		fi
	fi
	QUOTA_ROOT=$root
	err=$(mkdir "$root/cashless-bench-$$" 2>&1) ||
		{ QUOTA_WHY="cannot create a cgroup under $root (v$QUOTA_VER): ${err##*: } (root needed)"; return 1; }
	QUOTA_CG=$root/cashless-bench-$$
	if [[ $QUOTA_VER == 1 ]]; then
		echo "$QUOTA_PERIOD" >"$QUOTA_CG/cpu.cfs_period_us"
	fi
	say "  cgroup v$QUOTA_VER: $QUOTA_CG (removed at exit)"
}
# quota_set US: the group's quota per QUOTA_PERIOD us, -1 for none.
quota_set() {
	if [[ $QUOTA_VER == 1 ]]; then
		echo "$1" >"$QUOTA_CG/cpu.cfs_quota_us"
	elif (($1 < 0)); then
		echo "max $QUOTA_PERIOD" >"$QUOTA_CG/cpu.max"
	else
		echo "$1 $QUOTA_PERIOD" >"$QUOTA_CG/cpu.max"
	fi
}
# quota_stat: "periods throttled_periods throttled_us" of the group (v1 counts ns, v2 us).
quota_stat() {
	[[ -n $QUOTA_CG ]] || { echo "0 0 0"; return; }
	awk -v v="$QUOTA_VER" '$1 == "nr_periods" {p = $2} $1 == "nr_throttled" {t = $2}
		$1 == "throttled_time" && v == 1 {u = $2 / 1000} $1 == "throttled_usec" && v == 2 {u = $2}
		END {printf "%d %d %.0f\n", p, t, u}' "$QUOTA_CG/cpu.stat"
}
# start_server_in CPUS CGROUP: start_server's server (log.level warn) on CPUS, inside CGROUP from
# its first instruction ('' = none), so the runtime sizes GOMAXPROCS by the quota as in a pod and
# the hash workers it spawns inherit the group.
start_server_in() {
	local cpus=$1 cg=$2
	SERVER_LOG=$WORK/server-q.log
	(cd "$WORK" && { [[ -z $cg ]] || echo "$BASHPID" >"$cg/cgroup.procs"; } &&
		exec env "${SERVER_ENV[@]}" CASHLESS_AUTH_LOG_LEVEL=warn taskset -c "$cpus" "$WORK/cashless-auth" serve) \
		>"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	wait_health "$REAL" "$SERVER_PID" || { cat "$SERVER_LOG"; die "the server did not answer /health"; }
}
# q_flood NAME RATE: e2's load on the running server, after a warm-up pass over the client
# addresses (a fresh process): sets Q_P50 Q_P99 Q_CP99 Q_HELD Q_ACH Q_LOGINS Q_PROCS Q_WORKERS and
# Q_THR ("periods throttled throttled_us" over the verify window).
q_flood() {
	local name=$1 rate=$2 flood s0 s1
	Q_PROCS=$(curl -s "$REAL/metrics" | awk '/^go_sched_gomaxprocs_threads / {print $2}')
	quiet "$name"
	wrk_run "${name}_warmup" "$REAL/tokens/verify" bench/wrk/rotate.lua "$WARMUP" "$CONNS" BENCH_BODIES_FILE="$BODIES" >"$WORK/$name.warmup"
	grep -- '->' "$WORK/$name.warmup"
	phase_begin
	env BENCH_IPS="$NIPS" BENCH_THREADS=1 BENCH_PATH=/auth/login BENCH_BODY="$LOGIN_BODY" \
		taskset -c "$LOAD_CPU" wrk -t1 -c"$LOGIN_CONNS" -d"$((LAT_DURATION + 6))s" --timeout 30s -s bench/wrk/rotate.lua \
		"$REAL/auth/login" >"$WORK/$name.wrk" 2>&1 &
	flood=$!
	PIDS+=($flood)
	sleep 3
	s0=$(quota_stat)
	lat_run "${name}_verify" "$rate" "$LAT_DURATION" "$REAL" nested
	s1=$(quota_stat)
	Q_WORKERS=$(server_children | wc -l)
	wait "$flood" || die "login flood wrk failed"
	phase_end "$name"
	Q_P50=$P50 Q_P99=$P99 Q_CP99=$CP99 Q_HELD=$HELD Q_ACH=$ACHIEVED
	Q_LOGINS=$(calc '%.0f' "$(field requests "$WORK/$name.wrk") / ($(field duration_us "$WORK/$name.wrk") / 1e6)")
	Q_THR=$(awk -v a="$s0" -v b="$s1" 'BEGIN {split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2], y[3] - x[3]}')
	say "  -> $name: verify p99 $Q_P99 ms (p50 $Q_P50, corrected p99 $Q_CP99), logins $Q_LOGINS/s (non-2xx $(field non2xx "$WORK/$name.wrk")),"
	say "     GOMAXPROCS $Q_PROCS, $Q_WORKERS hash worker(s); cgroup over the verify window: periods, throttled periods, throttled us = $Q_THR"
}
# quota_phases RATE: q0 and q1; the pinned server of the other phases is back afterwards.
quota_phases() {
	local rate=$1 p t us
	step "q. login flood + verify at $rate req/s, server on CPUs $QUOTA_CPUS: no quota (q0), then a CFS quota of $QUOTA_US/$QUOTA_PERIOD us (q1)"
	stop_server
	quota_cgroup_create || say "  no cgroup: $QUOTA_WHY"
	[[ -z $QUOTA_CG ]] || quota_set -1
	start_server_in "$QUOTA_CPUS" "$QUOTA_CG"
	q_flood q0_noquota "$rate"
	Q0_P50=$Q_P50 Q0_P99=$Q_P99 Q0_CP99=$Q_CP99 Q0_HELD=$Q_HELD Q0_ACH=$Q_ACH Q0_LOGINS=$Q_LOGINS Q0_PROCS=$Q_PROCS Q0_WORKERS=$Q_WORKERS
	stop_server
	Q1_SKIPPED=$QUOTA_WHY
	if [[ -n $QUOTA_CG ]]; then
		quota_set "$QUOTA_US"
		start_server_in "$QUOTA_CPUS" "$QUOTA_CG"
		q_flood q1_quota "$rate"
		Q1_P50=$Q_P50 Q1_P99=$Q_P99 Q1_CP99=$Q_CP99 Q1_HELD=$Q_HELD Q1_ACH=$Q_ACH Q1_LOGINS=$Q_LOGINS Q1_PROCS=$Q_PROCS Q1_WORKERS=$Q_WORKERS
		read -r p t us <<<"$Q_THR"
		Q1_THR_PCT=$(calc '%.0f' "$p ? 100 * $t / $p : 0")
		Q1_THR_MS=$(calc '%.0f' "$us / 1000")
		Q1_THR_AVG=$(calc '%.1f' "$t ? $us / $t / 1000 : 0")
		# throttled time adds up per CPU (v1 and v2): with N CPUs stalled at once, N times the wall time.
		Q1_THR="$t of $p periods ($Q1_THR_PCT%), $Q1_THR_AVG ms per period over CPUs"
		Q1_RATIO=$(calc '%.2f' "$Q1_P99 / $Q0_P99")
		say "  -> quota / no quota verify p99: x$Q1_RATIO; throttled $Q1_THR"
		stop_server
	else
		say "  q1 SKIPPED: $QUOTA_WHY"
	fi
	quota_cgroup_remove
	start_server warn
}
quota_rows() {
	printf '%-50s %-32s %-13s %s\n' "q0. flood, CPUs $QUOTA_CPUS, no quota: verify p99" "$Q0_P99 ms (p50 $Q0_P50, cp99 $Q0_CP99)" "" "$([[ $Q0_HELD == yes ]] && echo ok || echo 'NOT HELD')"
	printf '%-50s %-32s %-13s %s\n' "   GOMAXPROCS, hash workers, logins/s" "$Q0_PROCS, $Q0_WORKERS, $Q0_LOGINS/s" "" ""
	if [[ -n $Q1_SKIPPED ]]; then
		printf '%-50s %-32s %-13s %s\n' "q1. the same under a 1-CPU quota" "$Q1_SKIPPED" "" "SKIPPED"
		return
	fi
	printf '%-50s %-32s %-13s %s\n' "q1. the same, quota $QUOTA_US/$QUOTA_PERIOD us (cgroup v$QUOTA_VER)" "$Q1_P99 ms (p50 $Q1_P50, cp99 $Q1_CP99)" "" "$([[ $Q1_HELD == yes ]] && echo ok || echo 'NOT HELD')"
	printf '%-50s %-32s %-13s %s\n' "   GOMAXPROCS, hash workers, logins/s" "$Q1_PROCS, $Q1_WORKERS, $Q1_LOGINS/s" "" ""
	printf '%-50s %-32s %-13s %s\n' "   quota p99 / no-quota p99" "$Q1_RATIO" "" ""
	printf '%-50s %-32s %-13s %s\n' "   throttled (cpu.stat, over the verify run)" "$Q1_THR" "" ""
}

# ---- start ---------------------------------------------------------------------------------------
step "machine"
NPROC=$(nproc)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
GO_VERSION=$(go env GOVERSION)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo " (+ uncommitted changes)" || true)
say "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "cpu:    $NPROC x $CPU_MODEL"
say "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
say "go:     $GO_VERSION; commit $COMMIT$DIRTY"
((NPROC >= 2)) || die "needs 2 CPUs to pin the server and the load generator apart (nproc=$NPROC)"
say "pinning: server (and the baseline) on CPU $SERVER_CPU (taskset -c $SERVER_CPU: the Go runtime sees one CPU),"
say "         load generators (wrk, $LAT_TOOL, hey, the cold-start poller) on CPU $LOAD_CPU (taskset -c $LOAD_CPU);"
say "         PostgreSQL and Redis are unpinned."

step "tools"
ensure_tools
say "wrk:    $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
say "hey:    $(dpkg-query -W -f='${Version}' hey 2>/dev/null || go version -m "$BIN_DIR/hey" | awk '$1=="mod" {print $3}') ($(command -v hey))"
if [[ $LAT_TOOL == vegeta ]]; then
	say "vegeta: $VEGETA_VERSION ($(command -v vegeta)), the constant-rate tool"
else
	say "loadgen: bench/loadgen (built below), the constant-rate tool"
fi

step "services and builds"
bash scripts/services.sh ensure
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$WORK/cashless-auth" ./cmd/cashless-auth
CGO_ENABLED=0 go build -trimpath -o "$WORK/baseline" ./bench/baseline
go build -o "$WORK/coldstart" ./bench/coldstart
go build -o "$WORK/loadgen" ./bench/loadgen
say "built cashless-auth (CGO_ENABLED=0), baseline, coldstart, loadgen into $WORK"

psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
DB_CREATED=1
DB_URL=$(sed -E "s#^(postgres(ql)?://[^/]+/)[^?]*#\1$DB_NAME#" <<<"$PG_ADMIN_URL")
REDIS_PREFIX="cashless-bench:$(date +%s)-$$:"
REAL=http://127.0.0.1:$PORT
BASE=http://127.0.0.1:$BASE_PORT
SERVER_ENV=(
	CASHLESS_AUTH_SERVER_ADDR="127.0.0.1:$PORT"
	CASHLESS_AUTH_DATA_DIR="$WORK/data"
	CASHLESS_AUTH_DATABASE_URL="$DB_URL"
	CASHLESS_AUTH_REDIS_URL="$REDIS_URL"
	CASHLESS_AUTH_REDIS_PREFIX="$REDIS_PREFIX"
	CASHLESS_AUTH_JWT_SECRET="$(head -c 48 /dev/urandom | base64 -w0)"
	CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64 -w0)"
	CASHLESS_AUTH_RATELIMIT_TRUSTED_PROXIES=127.0.0.1/32
	CASHLESS_AUTH_MODULES_FORWARD_AUTH_ENABLED=true
	# The bench logs in far beyond the contract's 10/min/IP on purpose (e).
	CASHLESS_AUTH_RATELIMIT_ROUTES_PASSWORD_LOGIN=1000000/minute
)
say "database $DB_NAME (fresh), redis prefix $REDIS_PREFIX, trusted proxy 127.0.0.1/32, log.level warn"

(cd "$WORK" && env "${SERVER_ENV[@]}" CASHLESS_AUTH_LOG_LEVEL=warn "$WORK/cashless-auth" migrate) >/dev/null 2>&1 ||
	die "migrate failed"
ADMIN_EMAIL=bench-admin@example.com
ADMIN_PASSWORD="bench-$(head -c 12 /dev/urandom | base64 -w0 | tr -d '/+=')"
ADMIN_ID=$(cd "$WORK" && printf '%s\n' "$ADMIN_PASSWORD" | env "${SERVER_ENV[@]}" CASHLESS_AUTH_LOG_LEVEL=warn \
	"$WORK/cashless-auth" users create --email "$ADMIN_EMAIL" --role admin --password-stdin 2>/dev/null)
say "provisioned admin $ADMIN_ID via the CLI (argon2id m=19456 KiB, t=2, p=1)"

start_server warn
taskset -c "$SERVER_CPU" "$WORK/baseline" -addr "127.0.0.1:$BASE_PORT" >"$WORK/baseline.log" 2>&1 &
BASELINE_PID=$!
PIDS+=($BASELINE_PID)
wait_health_base() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null -X POST -d '{"token":"x"}' "$BASE/tokens/verify" && return 0
		sleep 0.1
	done
	die "baseline did not start"
}
wait_health_base

GOMAXPROCS_SEEN=$(curl -s "$REAL/metrics" | awk '/^go_sched_gomaxprocs_threads / {print $2}')
say "server: GOMAXPROCS ${GOMAXPROCS_SEEN:-unknown} (from /metrics) on 1 CPU"
LOGIN_BODY=$(jq -cn --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p, role: "admin"}')
TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Forwarded-For: 10.255.0.1' \
	-d "$LOGIN_BODY" "$REAL/auth/login" | jq -r '.access_token') || die "login failed"
[[ -n $TOKEN && $TOKEN != null ]] || die "no access token"
VERIFY_BODY="{\"token\":\"$TOKEN\"}"
CHECK=$(curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Forwarded-For: 10.255.0.2' -d "$VERIFY_BODY" "$REAL/tokens/verify")
jq -e '.valid == true' <<<"$CHECK" >/dev/null || die "the access token does not verify: $CHECK"
say "logged in; the access token verifies: $(jq -c '{valid, claims: (.claims | {typ: (.type // .typ), role, sid: (.sid != null)})}' <<<"$CHECK")"
say "verify response: real $(printf '%s' "$CHECK" | wc -c) bytes, baseline $(curl -s -X POST -d "$VERIFY_BODY" "$BASE/tokens/verify" | wc -c) bytes"

# ---- a, b: saturation ---------------------------------------------------------------------------
step "tokens: $NTOKENS access tokens over $NSESSIONS sessions (logins, then refresh chains)"
# Production verifies many tokens, each presented again and again; one token would make every
# per-token cache hit. Each session is a login; its refresh chain mints more access tokens, all
# valid while the session stands. Each call comes from its own address (refresh: 30/min/IP).
# The logins run one after another: they are one account's, and the account lock reserves an
# attempt per login in flight (docs/contract/NOTES.md), so 20 at once got 429s; the refresh
# chains then run in parallel.
BODIES=$WORK/bodies.txt
TOKEN_RE='"access_token":"([^"]+)".*"refresh_token":"([^"]+)"'
per_session=$(((NTOKENS + NSESSIONS - 1) / NSESSIONS))
t0=$SECONDS
post() { # post PATH BODY N: from address 10.251.x.y number N
	curl -sf -X POST -H 'Content-Type: application/json' \
		-H "X-Forwarded-For: 10.251.$(($3 / 256 % 256)).$(($3 % 256))" -d "$2" "$REAL$1"
}
mint() { # mint SESSION COUNT PAIR: PAIR's refresh chain, COUNT access tokens into bodies.SESSION
	local sess=$1 count=$2 pair=$3 k call=$(($1 * per_session)) out=$WORK/bodies.$1
	for ((k = 0; k < count; k++)); do
		[[ $pair =~ $TOKEN_RE ]] || { echo "no token pair in: $pair" >"$out.err"; return; }
		printf '{"token":"%s"}\n' "${BASH_REMATCH[1]}" >>"$out"
		if ((k + 1 < count)); then
			pair=$(post /auth/refresh "{\"refresh_token\":\"${BASH_REMATCH[2]}\"}" $((call + k + 1))) ||
				{ echo "refresh failed in session $sess" >"$out.err"; return; }
		fi
	done
}
MINT_PIDS=()
left=$NTOKENS
for ((sess = 0; sess < NSESSIONS && left > 0; sess++)); do
	n=$((left < per_session ? left : per_session))
	left=$((left - n))
	pair=$(post /auth/login "$LOGIN_BODY" $((sess * per_session))) || die "minting tokens: login $sess failed"
	mint "$sess" "$n" "$pair" &
	MINT_PIDS+=($!)
	PIDS+=($!)
done
wait "${MINT_PIDS[@]}"
if compgen -G "$WORK/bodies.*.err" >/dev/null; then
	die "minting tokens: $(cat "$WORK"/bodies.*.err | head -3)"
fi
cat "$WORK"/bodies.[0-9]* >"$BODIES"
minted=$(wc -l <"$BODIES")
((minted == NTOKENS)) || die "minted $minted tokens, wanted $NTOKENS"
for line in 1 "$minted"; do
	CHECK=$(curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Forwarded-For: 10.255.0.3' \
		-d "$(sed -n "${line}p" "$BODIES")" "$REAL/tokens/verify")
	jq -e '.valid == true' <<<"$CHECK" >/dev/null || die "token $line does not verify: $CHECK"
done
say "minted $minted tokens in $((SECONDS - t0))s; the first and the last verify"

# ---- h: gateway forward-auth (after a/b, or alone with BENCH_ONLY=forward) ----------------------
forward_phase() {
	local rep code
	step "h. gateway forward-auth, interleaved: baseline and real GET /auth/forward, $REPS x ${DURATION}s each (wrk -t1 -c$CONNS)"
	say "real: the $NTOKENS access tokens as Authorization: Bearer, rotating X-Forwarded-For over $NIPS addresses (own 600/min bucket per address)"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'X-Forwarded-For: 10.255.0.4' "$REAL/auth/forward")
	[[ $code == 200 ]] || die "GET /auth/forward with the access token answered $code"
	quiet h
	wrk_run h_real_warmup "$REAL/auth/forward" bench/wrk/rotate.lua "$WARMUP" "$CONNS" \
		BENCH_BODIES_FILE="$BODIES" BENCH_PATH=/auth/forward BENCH_AUTH=bearer >"$WORK/h_warmup.out"
	grep -- '->' "$WORK/h_warmup.out"
	FA_LIST=() FB_LIST=() FR_LIST=() FWD_NON2XX=0
	for ((rep = 1; rep <= REPS; rep++)); do
		quiet "h$rep"
		wrk_run "h_baseline_$rep" "$BASE/auth/forward" bench/wrk/plain.lua "$DURATION" "$CONNS" \
			BENCH_BODY="$VERIFY_BODY" BENCH_PATH=/auth/forward BENCH_AUTH=bearer
		FA_LIST+=("$RPS") FWD_BASE_BUSY=$BUSY
		wrk_run "h_real_$rep" "$REAL/auth/forward" bench/wrk/rotate.lua "$DURATION" "$CONNS" \
			BENCH_BODIES_FILE="$BODIES" BENCH_PATH=/auth/forward BENCH_AUTH=bearer
		FB_LIST+=("$RPS") FWD_BUSY=$BUSY FWD_NON2XX=$((FWD_NON2XX + NON2XX))
		FR_LIST+=("$(calc '%.2f' "${FB_LIST[-1]} / ${FA_LIST[-1]}")")
		say "  rep $rep: real / baseline = ${FR_LIST[-1]}"
	done
	FWD_BASE_RPS=$(mean "${FA_LIST[@]}")
	FWD_REAL_RPS=$(mean "${FB_LIST[@]}")
	RATIO_FWD=$(calc '%.2f' "$FWD_REAL_RPS / $FWD_BASE_RPS")
	FWD_SPREAD=$(printf '%s\n' "${FR_LIST[@]}" | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}')
	say "  -> mean: baseline $FWD_BASE_RPS req/s (${FA_LIST[*]}), real $FWD_REAL_RPS req/s (${FB_LIST[*]}), ratio $RATIO_FWD (per rep $FWD_SPREAD)"
	((FWD_NON2XX == 0)) || say "  WARNING: $FWD_NON2XX non-2xx answers in h (rate limited or failing): the ratio is not clean"
}
forward_rows() {
	printf '%-50s %-32s %-13s %s\n' "h. baseline GET /auth/forward throughput" "$FWD_BASE_RPS req/s (CPU $FWD_BASE_BUSY%)" "" ""
	printf '%-50s %-32s %-13s %s\n' "   real forward-auth throughput" "$FWD_REAL_RPS req/s (CPU $FWD_BUSY%)" "" ""
	printf '%-50s %-32s %-13s %s\n' "   real / baseline (per rep: $FWD_SPREAD)" "$RATIO_FWD" ">= 0.70" "$(awk -v v="$RATIO_FWD" 'BEGIN {print v >= 0.7 ? "ok" : "MISSED"}')"
}
if [[ $ONLY == forward ]]; then
	forward_phase
	{
		echo "cashless-auth bench, phase h only (BENCH_ONLY=forward) — $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $COMMIT$DIRTY"
		echo "machine: $NPROC x $CPU_MODEL, $GO_VERSION; server on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU; $REPS x ${DURATION}s -c$CONNS"
		echo "other processes' CPU during each phase (share of both CPUs): ${FOREIGN_REPORT[*]}"
		((${#DISTURBED[@]} == 0)) || echo "DISTURBED: ${DISTURBED[*]}"
		echo
		printf '%-50s %-32s %-13s %s\n' "measure" "value" "target" "verdict"
		forward_rows
	} >"$RESULTS/forward.txt"
	step "summary (bench/results/forward.txt)"
	cat "$RESULTS/forward.txt"
	exit 0
fi

if [[ $ONLY == quota ]]; then
	if [[ -z $QUOTA_RATE ]]; then
		step "q's verify rate: half of one b run (warm-up ${WARMUP}s, then ${DURATION}s), as c and e2 use"
		quiet qb
		wrk_run qb_warmup "$REAL/tokens/verify" bench/wrk/rotate.lua "$WARMUP" "$CONNS" BENCH_BODIES_FILE="$BODIES" >"$WORK/qb_warmup.out"
		grep -- '->' "$WORK/qb_warmup.out"
		wrk_run qb_real "$REAL/tokens/verify" bench/wrk/rotate.lua "$DURATION" "$CONNS" BENCH_BODIES_FILE="$BODIES"
		QUOTA_RATE=$(calc '%.0f' "$RPS / 2")
	fi
	quota_phases "$QUOTA_RATE"
	{
		echo "cashless-auth bench, q phases only (BENCH_ONLY=quota) — $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $COMMIT$DIRTY"
		echo "machine: $NPROC x $CPU_MODEL, $GO_VERSION; server on CPUs $QUOTA_CPUS, load generators on CPU $LOAD_CPU; verify at $QUOTA_RATE req/s ($LAT_TOOL, ${LAT_DURATION}s) beside a login flood (wrk -c$LOGIN_CONNS)"
		echo "background CPU before the phases: up to $BG_MAX% of both CPUs; other processes' CPU during each phase (share of both CPUs): ${FOREIGN_REPORT[*]}"
		((${#DISTURBED[@]} == 0)) || echo "DISTURBED: ${DISTURBED[*]}"
		echo
		printf '%-50s %-32s %-13s %s\n' "measure" "value" "target" "verdict"
		quota_rows
	} >"$RESULTS/quota.txt"
	step "summary (bench/results/quota.txt)"
	cat "$RESULTS/quota.txt"
	exit 0
fi

step "a/b. saturation, interleaved: baseline (a) and real (b) POST /tokens/verify, $REPS x ${DURATION}s each (wrk -t1 -c$CONNS)"
say "b: $NTOKENS valid access tokens, rotating X-Forwarded-For over $NIPS addresses, every protection on"
quiet ab
wrk_run a_warmup "$BASE/tokens/verify" bench/wrk/plain.lua 2 "$CONNS" BENCH_BODY="$VERIFY_BODY" >/dev/null
# Warm-up: the first request of each client address and token on a replica costs more than the
# next ones (the limiter learns the address's shared count, the token and its session get
# cached): one pass over every address first, reported apart, then the steady state is measured.
wrk_run b_warmup "$REAL/tokens/verify" bench/wrk/rotate.lua "$WARMUP" "$CONNS" BENCH_BODIES_FILE="$BODIES" >"$WORK/b_warmup.out"
grep -- '->' "$WORK/b_warmup.out"
WARM_REQ=$(field requests "$WORK/b_warmup.wrk")
WARM_RPS=$RPS
((WARM_REQ >= NIPS)) || say "  WARNING: the warm-up sent $WARM_REQ requests, fewer than the $NIPS addresses: raise BENCH_WARMUP"
A_LIST=() B_LIST=() R_LIST=() REAL_NON2XX=0 REAL_ERRS=0
for ((rep = 1; rep <= REPS; rep++)); do
	quiet "ab$rep"
	wrk_run "a_baseline_$rep" "$BASE/tokens/verify" bench/wrk/plain.lua "$DURATION" "$CONNS" BENCH_BODY="$VERIFY_BODY"
	A_LIST+=("$RPS") BASE_BUSY=$BUSY BASE_LBUSY=$LBUSY
	((BASE_BUSY >= 90)) || say "  WARNING: the baseline server's CPU was $BASE_BUSY% busy: the load generator (CPU $LOAD_CPU $LBUSY%) may be the limit, the ratio is then optimistic"
	wrk_run "b_real_$rep" "$REAL/tokens/verify" bench/wrk/rotate.lua "$DURATION" "$CONNS" BENCH_BODIES_FILE="$BODIES"
	B_LIST+=("$RPS") REAL_BUSY=$BUSY LBUSY_B=$LBUSY
	REAL_NON2XX=$((REAL_NON2XX + NON2XX)) REAL_ERRS=$((REAL_ERRS + ERRS))
	R_LIST+=("$(calc '%.2f' "${B_LIST[-1]} / ${A_LIST[-1]}")")
	say "  rep $rep: real / baseline = ${R_LIST[-1]}"
done
BASE_RPS=$(mean "${A_LIST[@]}")
REAL_RPS=$(mean "${B_LIST[@]}")
RATIO_TPUT=$(calc '%.2f' "$REAL_RPS / $BASE_RPS")
RATIO_SPREAD=$(printf '%s\n' "${R_LIST[@]}" | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}')
say "  -> mean: baseline $BASE_RPS req/s (${A_LIST[*]}), real $REAL_RPS req/s (${B_LIST[*]}), ratio $RATIO_TPUT (per rep $RATIO_SPREAD)"
PER_IP_MIN=$(calc '%.1f' "$REAL_RPS / $NIPS * 60")
PER_IP_RUN=$(calc '%.1f' "($WARM_REQ + $REAL_RPS * $DURATION * $REPS) / $NIPS")
say "  per-IP load: $REAL_RPS req/s / $NIPS addresses = $PER_IP_MIN req/min per address (cap 600/min),"
say "  $PER_IP_RUN requests per address over the warm-up and the $REPS runs (burst 600): every request is under its cap"
((REAL_NON2XX == 0)) || say "  WARNING: $REAL_NON2XX non-2xx answers in b (rate limited or failing): the ratio is not clean"
forward_phase

# ---- c: latency at half saturation ------------------------------------------------------------
HALF=$(calc '%.0f' "$REAL_RPS / 2")
step "c. real POST /tokens/verify at half saturation: $HALF req/s constant rate for ${LAT_DURATION}s ($LAT_TOOL, -conns $CONNS), rotating X-Forwarded-For"
quiet c
lat_run c_idle "$HALF" "$LAT_DURATION" "$REAL"
IDLE_P50=$P50 IDLE_P99=$P99 IDLE_P999=$P999 IDLE_CP99=$CP99 IDLE_ACH=$ACHIEVED IDLE_SUCCESS=$SUCCESS IDLE_BUSY=$BUSY IDLE_HELD=$HELD IDLE_STEAL=$STEAL

step "c0. the method's floor: the baseline at the same $HALF req/s for ${LAT_DURATION}s ($LAT_TOOL)"
quiet c0
lat_run c0_baseline "$HALF" "$LAT_DURATION" "$BASE"
FLOOR_P50=$P50 FLOOR_P99=$P99 FLOOR_P999=$P999 FLOOR_CP99=$CP99 FLOOR_BUSY=$BUSY FLOOR_STEAL=$STEAL

# ---- d: the 429 path --------------------------------------------------------------------------
step "d. the 429 path: one client (X-Forwarded-For 198.51.100.7) hammering for ${DURATION}s (hey -c $CONNS)"
quiet d
phase_begin
c0=$(cpu_ticks "$SERVER_CPU")
taskset -c "$LOAD_CPU" hey -z "${DURATION}s" -c "$CONNS" -m POST -T application/json \
	-H "X-Forwarded-For: 198.51.100.7" -d "$VERIFY_BODY" "$REAL/tokens/verify" >"$WORK/d.hey" 2>&1 || die "hey failed"
c1=$(cpu_ticks "$SERVER_CPU")
phase_end d_429
sed -n '/Summary/,/Requests\/sec/p; /Status code distribution/,/^$/p' "$WORK/d.hey" | sed 's/^/    /'
HEY_RPS=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/d.hey")
N429=$(awk '/\[429\]/ {print $2}' "$WORK/d.hey")
N200=$(awk '/\[200\]/ {print $2}' "$WORK/d.hey")
N429=${N429:-0} N200=${N200:-0}
RPS429=$(calc '%.0f' "$N429 / $DURATION")
D_BUSY=$(busy_pct "$c0" "$c1")
say "  -> 429 path: $N429 x 429 ($RPS429/s), $N200 x 200 (the bucket's burst and refill), all answers $HEY_RPS req/s, server CPU busy $D_BUSY%"

# ---- e: logins --------------------------------------------------------------------------------
step "e1. POST /auth/login saturation, argon2id m=19456 KiB t=2 p=1, one correct account, rotating X-Forwarded-For (wrk -c$LOGIN_CONNS -d${LOGIN_DURATION}s)"
quiet e1
wrk_run e_login "$REAL/auth/login" bench/wrk/rotate.lua "$LOGIN_DURATION" "$LOGIN_CONNS" \
	BENCH_PATH=/auth/login BENCH_BODY="$LOGIN_BODY"
LOGIN_RPS=$RPS LOGIN_NON2XX=$NON2XX LOGIN_BUSY=$BUSY
LOGIN_PER_CORE=$LOGIN_RPS # the server runs on one CPU
((LOGIN_NON2XX == 0)) || say "  WARNING: $LOGIN_NON2XX non-2xx login answers"

FLOOD_SECS=$((LAT_DURATION + 6))
step "e2. login flood (wrk -c$LOGIN_CONNS, ${FLOOD_SECS}s) with /tokens/verify at $HALF req/s beside it for ${LAT_DURATION}s ($LAT_TOOL)"
quiet e2
phase_begin
echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null && HWM_RESET=yes || HWM_RESET="no (peak since start)"
RSS_BEFORE=$(rss_kb VmRSS)
(
	max=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [[ ! -f $WORK/flood.done ]]; do
		r=$(rss_kb VmRSS)
		((r > max)) && max=$r && echo "$max" >"$WORK/rss.max"
		sleep 0.2
	done
) &
PIDS+=($!)
SAMPLER=$!
env BENCH_IPS="$NIPS" BENCH_THREADS=1 BENCH_PATH=/auth/login BENCH_BODY="$LOGIN_BODY" \
	taskset -c "$LOAD_CPU" wrk -t1 -c"$LOGIN_CONNS" -d"${FLOOD_SECS}s" --timeout 30s -s bench/wrk/rotate.lua "$REAL/auth/login" \
	>"$WORK/e_flood.wrk" 2>&1 &
PIDS+=($!)
FLOOD=$!
sleep 3
lat_run e_flood_verify "$HALF" "$LAT_DURATION" "$REAL" nested
FLOOD_P50=$P50 FLOOD_P99=$P99 FLOOD_P999=$P999 FLOOD_CP99=$CP99 FLOOD_ACH=$ACHIEVED FLOOD_SUCCESS=$SUCCESS FLOOD_BUSY=$BUSY FLOOD_HELD=$HELD
wait "$FLOOD" || die "login flood wrk failed"
touch "$WORK/flood.done"
wait "$SAMPLER" 2>/dev/null || true
phase_end e2_flood
sed 's/^/    /' "$WORK/e_flood.wrk"
FLOOD_LOGIN_RPS=$(calc '%.0f' "$(field requests "$WORK/e_flood.wrk") / ($(field duration_us "$WORK/e_flood.wrk") / 1e6)")
FLOOD_LOGIN_NON2XX=$(field non2xx "$WORK/e_flood.wrk")
HWM_KB=$(rss_kb VmHWM) # the server's peak since the reset, plus each hash worker's own
WORKERS=$(server_children | wc -l)
RSS_MAX_KB=$(cat "$WORK/rss.max" 2>/dev/null || echo 0)
FLOOD_RATIO=$(calc '%.2f' "$FLOOD_P99 / $IDLE_P99")
say "  -> logins during the flood: $FLOOD_LOGIN_RPS/s (non-2xx $FLOOD_LOGIN_NON2XX)"
say "  -> verify p99 under flood $FLOOD_P99 ms vs idle $IDLE_P99 ms: x$FLOOD_RATIO (target <= 2)"
say "  -> server RSS ($WORKERS hash worker process(es) included): $((RSS_BEFORE / 1024)) MiB before, peak (VmHWM, reset before the flood: $HWM_RESET) $((HWM_KB / 1024)) MiB, max sampled VmRSS $((RSS_MAX_KB / 1024)) MiB"

[[ $QUOTA_RUN != 1 ]] || quota_phases "$HALF"

# ---- b': access log on ------------------------------------------------------------------------
if [[ $ACCESS_LOG_RUN == 1 ]]; then
	step "b'. b again with log.level=info: one JSON access-log line per request (to a file)"
	stop_server
	start_server info
	quiet "b'"
	wrk_run b_real_info_warmup "$REAL/tokens/verify" bench/wrk/rotate.lua "$WARMUP" "$CONNS" BENCH_BODIES_FILE="$BODIES" >/dev/null
	wrk_run b_real_info "$REAL/tokens/verify" bench/wrk/rotate.lua "$((DURATION * 2))" "$CONNS" BENCH_BODIES_FILE="$BODIES"
	INFO_RPS=$RPS INFO_NON2XX=$NON2XX
	say "  access-log lines written: $(grep -c '"msg":"request"' "$SERVER_LOG" || true)"
	# The host's speed drifts over minutes: pair b' with a baseline run of its own.
	wrk_run a_baseline_info "$BASE/tokens/verify" bench/wrk/plain.lua "$((DURATION * 2))" "$CONNS" BENCH_BODY="$VERIFY_BODY"
	INFO_BASE_RPS=$RPS
	RATIO_INFO=$(calc '%.2f' "$INFO_RPS / $INFO_BASE_RPS")
fi
stop_server

# ---- f: cold start ----------------------------------------------------------------------------
step "f. cold start of the embedded default (no database/Redis configured, fresh data dir) to the first /health 200, $COLD_RUNS runs, server on CPU $SERVER_CPU"
quiet f
phase_begin
taskset -c "$LOAD_CPU" "$WORK/coldstart" -bin "$WORK/cashless-auth" -n "$COLD_RUNS" -pin "$SERVER_CPU" >"$WORK/coldstart.out"
phase_end f_coldstart
sed 's/^/    /' "$WORK/coldstart.out"
COLD_MS=$(field coldstart_median_ms "$WORK/coldstart.out")

# ---- g: go benchmarks and profile -------------------------------------------------------------
if [[ $GO_BENCH == 1 ]]; then
	step "g. go test benchmarks (in-process, unpinned, both CPUs; PostgreSQL + Redis on loopback)"
	quiet g
	go test -run '^$' -bench . -benchmem -benchtime 1s \
		./core/tokens ./core/passwords ./core/ratelimit ./core/state ./core/schema 2>&1 |
		grep -E '^(Benchmark|ok|FAIL|---)' | tee "$WORK/pieces.txt" | sed 's/^/    /'
	# One hash on the server's CPU alone, as the login phase runs it (unpinned, the collector
	# of its 19 MiB would run on the other CPU and flatter it by ~20 %).
	go test -c -o "$WORK/passwords.test" ./core/passwords
	taskset -c "$SERVER_CPU" "$WORK/passwords.test" -test.run '^$' -test.bench 'VerifyOWASP$' -test.benchtime 30x 2>&1 |
		grep -E '^Benchmark' | tee "$WORK/hash.txt" | sed 's/^/    pinned to CPU '"$SERVER_CPU"': /'
	go test -run '^$' -bench 'BenchmarkVerify' -benchmem -benchtime 2s ./bench 2>&1 |
		grep -E '^(Benchmark|ok|FAIL|---)' | tee "$WORK/verify-bench.txt" | sed 's/^/    /'
	go test -run '^$' -bench 'BenchmarkVerify/postgres/access_token$' -benchmem -benchtime 5s \
		-cpuprofile "$WORK/verify.pprof" -o "$WORK/bench.test" ./bench 2>&1 | grep -E '^Benchmark' | sed 's/^/    /'
	{
		echo "# CPU profile of BenchmarkVerify/postgres/access_token (go test -bench, 5s), commit $COMMIT$DIRTY"
		echo "# go tool pprof -top -cum -nodecount 40"
		go tool pprof -top -cum -nodecount 40 "$WORK/bench.test" "$WORK/verify.pprof" 2>/dev/null
		echo
		echo "# go tool pprof -top -nodecount 25 (flat)"
		go tool pprof -top -nodecount 25 "$WORK/bench.test" "$WORK/verify.pprof" 2>/dev/null
	} >"$RESULTS/verify-profile.txt"
	cp "$WORK/verify.pprof" "$RESULTS/verify.pprof"
	say "  profile: bench/results/verify.pprof, top in bench/results/verify-profile.txt; top 15 by cum:"
	awk '/^ *flat  flat%/ {n++; if (n == 1) {p = 16; print; next}} p > 0 {print; p--}' "$RESULTS/verify-profile.txt" | sed 's/^/    /'
	INPROC=$(awk '/BenchmarkVerify\/postgres\/access_token/ {print $3 " ns/op, " $5 " B/op, " $7 " allocs/op"}' "$WORK/verify-bench.txt")
	INPROC_BARE=$(awk '/BenchmarkVerify\/bare/ {print $3 " ns/op, " $7 " allocs/op"}' "$WORK/verify-bench.txt")
	# The host's speed drifts by tens of % over minutes, and a login is one argon2id hash: the
	# hash alone, timed in the same run, says what logins/s this CPU allows at all.
	HASH_MS=$(awk '/BenchmarkVerifyOWASP/ {printf "%.1f", $3 / 1e6}' "$WORK/hash.txt")
fi

# ---- summary ----------------------------------------------------------------------------------
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'; }
{
	echo "cashless-auth make bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $COMMIT$DIRTY"
	echo "machine: $NPROC x $CPU_MODEL, $GO_VERSION; server on CPU $SERVER_CPU (GOMAXPROCS ${GOMAXPROCS_SEEN:-?}; hashes run in worker processes unless password.process is off), load generators on CPU $LOAD_CPU (taskset)"
	echo "tokens: $NTOKENS valid access tokens over $NSESSIONS sessions, rotated by the verify loads"
	echo "load: wrk $REPS x ${DURATION}s -c$CONNS interleaved (saturation), $LAT_TOOL ${LAT_DURATION}s constant rate over <= $CONNS connections (latency), hey (429 path);"
	echo "      verify callers rotate X-Forwarded-For over $NIPS addresses: $PER_IP_MIN req/min each at saturation (cap 600)"
	echo "(CPU a%/b%: busy share of the server's CPU / of the load generator's CPU during the run)"
	echo "other processes' CPU during each phase (share of both CPUs): ${FOREIGN_REPORT[*]}"
	if ((${#DISTURBED[@]})); then
		echo "DISTURBED (other processes above $FOREIGN_MAX%): ${DISTURBED[*]}: rerun on an idle machine before quoting those figures"
	else
		echo "no phase disturbed by other processes (each below $FOREIGN_MAX% of both CPUs)"
	fi
	echo
	printf '%-50s %-32s %-13s %s\n' "measure" "value" "target" "verdict"
	printf '%-50s %-32s %-13s %s\n' "a. baseline verify throughput" "$BASE_RPS req/s (CPU $BASE_BUSY%/$BASE_LBUSY%)" "" ""
	printf '%-50s %-32s %-13s %s\n' "b0. real verify, warm-up (first sight of each IP)" "$WARM_RPS req/s" "" ""
	printf '%-50s %-32s %-13s %s\n' "b. real verify throughput (log.level=warn)" "$REAL_RPS req/s (CPU $REAL_BUSY%/$LBUSY_B%)" "" ""
	printf '%-50s %-32s %-13s %s\n' "   real / baseline (per rep: $RATIO_SPREAD)" "$RATIO_TPUT" ">= 0.50" "$(verdict "$RATIO_TPUT" 0.5 '>=')"
	forward_rows
	if [[ $ACCESS_LOG_RUN == 1 ]]; then
		printf '%-50s %-32s %-13s %s\n' "b'. real verify throughput, access log on (info)" "$INFO_RPS req/s" "" ""
		printf '%-50s %-32s %-13s %s\n' "   baseline right after it" "$INFO_BASE_RPS req/s" "" ""
		printf '%-50s %-32s %-13s %s\n' "   real (access log) / that baseline" "$RATIO_INFO" ">= 0.50" "$(verdict "$RATIO_INFO" 0.5 '>=')"
	fi
	printf '%-50s %-32s %-13s %s\n' "c. verify p50 / p99 / p99.9 at $HALF req/s" "$IDLE_P50 / $IDLE_P99 / $IDLE_P999 ms" "p99 <= 2 ms" "$(verdict "$IDLE_P99" 2 '<=')"
	printf '%-50s %-32s %-13s %s\n' "   corrected p99 (from the intended send time)" "$IDLE_CP99 ms" "" ""
	printf '%-50s %-32s %-13s %s\n' "c0. floor: baseline p50 / p99 / p99.9, same rate" "$FLOOR_P50 / $FLOOR_P99 / $FLOOR_P999 ms" "" ""
	printf '%-50s %-32s %-13s %s\n' "   floor corrected p99" "$FLOOR_CP99 ms" "" ""
	printf '%-50s %-32s %-13s %s\n' "   real p99 - floor p99" "$(calc '%.3f' "$IDLE_P99 - $FLOOR_P99") ms" "" ""
	printf '%-50s %-32s %-13s %s\n' "   p99 / 2 ms target" "$(calc '%.2f' "$IDLE_P99 / 2")" "<= 1" ""
	printf '%-50s %-32s %-13s %s\n' "   achieved rate, success" "$IDLE_ACH req/s, $IDLE_SUCCESS%" "" "$([[ $IDLE_HELD == yes ]] && echo ok || echo 'NOT HELD')"
	printf '%-50s %-32s %-13s %s\n' "   server CPU busy: real / baseline" "$IDLE_BUSY% / $FLOOR_BUSY%" "" ""
	printf '%-50s %-32s %-13s %s\n' "   steal on the server CPU: real / baseline runs" "$IDLE_STEAL% / $FLOOR_STEAL%" "" ""
	printf '%-50s %-32s %-13s %s\n' "d. 429 path: 429s (one IP, hey)" "$N429 in ${DURATION}s = $RPS429/s" "" ""
	printf '%-50s %-32s %-13s %s\n' "e. logins/s (1 core, OWASP argon2id)" "$LOGIN_RPS (CPU $LOGIN_BUSY%)" "" ""
	printf '%-50s %-32s %-13s %s\n' "   logins/s per core" "$LOGIN_PER_CORE" ">= 30" "$(verdict "$LOGIN_PER_CORE" 30 '>=')"
	if [[ -n ${HASH_MS:-} ]]; then
		printf '%-50s %-32s %-13s %s\n' "   one hash alone on CPU $SERVER_CPU (g)" "$HASH_MS ms: at most $(calc '%.0f' "1000 / $HASH_MS")/s on this CPU now" "" ""
	fi
	printf '%-50s %-32s %-13s %s\n' "   verify p99 under login flood" "$FLOOD_P99 ms (p50 $FLOOD_P50)" "" ""
	printf '%-50s %-32s %-13s %s\n' "   corrected p99 under login flood" "$FLOOD_CP99 ms" "" ""
	printf '%-50s %-32s %-13s %s\n' "   verify rate held during the flood" "$FLOOD_ACH of $HALF req/s" "" "$([[ $FLOOD_HELD == yes ]] && echo ok || echo 'NOT HELD: p99 understated')"
	printf '%-50s %-32s %-13s %s\n' "   flood p99 / idle p99" "$FLOOD_RATIO" "<= 2" "$(verdict "$FLOOD_RATIO" 2 '<=')"
	printf '%-50s %-32s %-13s %s\n' "   logins/s during the flood" "$FLOOD_LOGIN_RPS" "" ""
	printf '%-50s %-32s %-13s %s\n' "   peak RSS during the flood (VmHWM, + workers)" "$((HWM_KB / 1024)) MiB ($WORKERS worker process(es))" "bounded" ""
	[[ $QUOTA_RUN != 1 ]] || quota_rows
	printf '%-50s %-32s %-13s %s\n' "f. cold start, embedded default (median of $COLD_RUNS)" "$COLD_MS ms" "< 1000 ms" "$(verdict "$COLD_MS" 1000 '<=')"
	if [[ $GO_BENCH == 1 ]]; then
		printf '%-50s %s\n' "g. in-process verify, postgres+redis (go test)" "$INPROC"
		printf '%-50s %s\n' "   in-process bare handler" "$INPROC_BARE"
	fi
} >"$RESULTS/latest.txt"
step "summary (bench/results/latest.txt)"
cat "$RESULTS/latest.txt"
