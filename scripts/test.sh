#!/usr/bin/env bash
# The whole suite, as `make test` runs it: go vet, golangci-lint, go test on both backends (with
# PostgreSQL, Redis, Mailpit and the Firebase Auth emulator), the chart checks, and a brief run
# of every fuzz target (scripts/fuzz.sh; `make fuzz` runs them longer).
#
# Ordered for a first run on an empty machine, where installing the tools costs as much as the
# tests: every tool install starts at once in the background (network-bound ones overlap the
# compiler; those off the critical path run niced), Go compiles meanwhile, go test starts as
# soon as Mailpit and the emulator are up, and lint and the chart checks run beside go test as
# soon as their tools are built. Progress lines say what is still installing and for how long.
# Logs of the background steps: $CASHLESS_AUTH_TOOLS/run/test-<pid>/ (printed on failure).
#
# Environment (the Makefile's `make test` hooks set these):
#   TEST_SERVICES  background services started before go test and stopped after, each a pair of
#                  `scripts/services.sh <name>-start|<name>-stop` (default: mailpit firebase-emulator)
#   TEST_TOOLS     `scripts/tools.sh` tools the tests need, installed first and un-niced
#                  (default: mailpit firebase); golangci-lint and the chart's tools are always added
#   TEST_ENV       VAR=value words for go test
#   GO, PKGS (default ./...), TEST_TIMEOUT (30m), TESTFLAGS
#   CASHLESS_AUTH_EXTRA_TOOLS  more tools to install alongside, niced (to measure a first run
#                              with the tools later issues add, before anything uses them)
#   PROGRESS_EVERY             seconds between progress lines (default 20)
#   TEST_FUZZTIME              fuzzing time per target beside go test (default 5s; 0 skips)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS_DIR=${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
export CASHLESS_AUTH_TOOLS=$TOOLS_DIR
GO=${GO:-go}
read -r -a PKGS_A <<<"${PKGS:-./...}"
read -r -a SERVICES <<<"${TEST_SERVICES-mailpit firebase-emulator}"
read -r -a TOOLS <<<"${TEST_TOOLS-mailpit firebase}"
TEST_TIMEOUT=${TEST_TIMEOUT:-30m}
read -r -a TESTFLAGS_A <<<"${TESTFLAGS:-}"
read -r -a TEST_ENV_A <<<"${TEST_ENV:-}"
read -r -a EXTRA_TOOLS <<<"${CASHLESS_AUTH_EXTRA_TOOLS:-}"
PROGRESS_EVERY=${PROGRESS_EVERY:-20}
TEST_FUZZTIME=${TEST_FUZZTIME:-5s}

LOGS=$TOOLS_DIR/run/test-$$
rm -rf "$LOGS"
mkdir -p "$LOGS"
export PATH="$(bash scripts/tools.sh path):$PATH"
# Static builds, as the image: every compile of the run (vet, lint's export data, the test
# binaries, the binaries tests build) then shares one set of cache entries; with cgo on the
# tests and off the binaries, the whole dependency graph compiled twice.
export CGO_ENABLED=0

START=$SECONDS
clock() { local s=$((SECONDS - START)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
say() { printf '== [%s] %s\n' "$(clock)" "$*" >&2; }

# ---- background jobs --------------------------------------------------------------------------
# job NAME [nice] CMD...: runs CMD in the background, output to $LOGS/NAME.log; $LOGS/NAME.rc
# holds its exit status once it ends, $LOGS/NAME.t its duration in seconds.
declare -a JOBS=()
job() {
	local name=$1 prio=0
	shift
	if [[ $1 == nice ]]; then
		prio=10
		shift
	fi
	JOBS+=("$name")
	date +%s >"$LOGS/$name.start"
	(
		s=$SECONDS
		set +e
		nice -n "$prio" "$@" >"$LOGS/$name.log" 2>&1 </dev/null
		rc=$?
		echo $((SECONDS - s)) >"$LOGS/$name.t"
		echo "$rc" >"$LOGS/$name.rc"
	) &
}

done_() { [[ -f $LOGS/$1.rc ]]; }

# await NAME: waits for job NAME; prints its log and fails when it failed.
await() {
	local name=$1
	while ! done_ "$name"; do sleep 0.5; done
	if [[ $(<"$LOGS/$name.rc") != 0 ]]; then
		say "FAILED: $name (exit $(<"$LOGS/$name.rc") after $(<"$LOGS/$name.t")s); its log:"
		cat "$LOGS/$name.log" >&2
		return 1
	fi
	say "ready: $name ($(<"$LOGS/$name.t")s)"
}

# progress prints, every PROGRESS_EVERY seconds, the jobs still running and for how long.
progress() {
	local now name running
	while sleep "$PROGRESS_EVERY"; do
		now=$(date +%s)
		running=()
		for name in "${JOBS[@]}"; do
			done_ "$name" || running+=("$name $(((now - $(<"$LOGS/$name.start")) / 60))m$(printf %02d $(((now - $(<"$LOGS/$name.start")) % 60)))s")
		done
		((${#running[@]} == 0)) || say "still running: $(IFS=,; echo "${running[*]}" | sed 's/,/, /g')"
	done
}

STOP_SERVICES=()
cleanup() {
	local rc=$?
	[[ -z ${PROGRESS_PID:-} ]] || kill "$PROGRESS_PID" 2>/dev/null || true
	((${#STOP_SERVICES[@]} == 0)) || bash scripts/services.sh "${STOP_SERVICES[@]}" || true
	# A background job left behind (a failure above) must not outlive the run.
	jobs -pr | xargs -r kill 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT

say "first run installs tools in the background (9-13 min on 2 cores with empty caches; later runs ~4 min)"
# The tools the tests need first, un-niced; the rest niced so they yield to the compiler.
for t in "${TOOLS[@]}"; do
	job "$t" bash scripts/tools.sh "$t"
done
# golangci-lint and helm one after the other: two concurrent `go install`s each compile the
# standard library and the packages they share (about 75 CPU-s more, measured).
job golangci-lint nice bash scripts/tools.sh golangci-lint
job chart-tools nice bash -c 'while [[ ! -f $0/golangci-lint.rc ]]; do sleep 1; done; bash scripts/chart.sh tools' "$LOGS"
for t in "${EXTRA_TOOLS[@]}"; do
	job "$t" nice bash scripts/tools.sh "$t"
done
progress &
PROGRESS_PID=$!

say "PostgreSQL and Redis"
bash scripts/services.sh ensure

say "go mod download, go vet"
"$GO" mod download
"$GO" vet "${PKGS_A[@]}"

if ((${#SERVICES[@]} > 0)); then
	# A service's start waits for its tool (tools.sh locks each install).
	say "starting ${SERVICES[*]}"
	for svc in "${SERVICES[@]}"; do
		bash scripts/services.sh "$svc-start" || { for t in "${TOOLS[@]}"; do await "$t" || true; done; exit 1; }
		STOP_SERVICES+=("$svc-stop")
	done
fi

# Lint and the chart checks run beside go test, each once its tools are built.
job lint bash -c 'while [[ ! -f $0/golangci-lint.rc ]]; do sleep 1; done; [[ $(<"$0/golangci-lint.rc") == 0 ]] || { echo "golangci-lint did not install"; exit 1; }; shift; golangci-lint run --allow-serial-runners "$@"' "$LOGS" "${PKGS_A[@]}"
job chart-check bash -c 'while [[ ! -f $0/chart-tools.rc ]]; do sleep 1; done; [[ $(<"$0/chart-tools.rc") == 0 ]] || { echo "chart tools did not install"; exit 1; }; bash scripts/chart.sh check' "$LOGS"
# Every fuzz target for a few seconds beside go test (the seeds alone run in go test): niced,
# one worker, so go test keeps the CPUs it wants. Its failure names the input it wrote.
FUZZ_JOBS=()
if [[ $TEST_FUZZTIME != 0 ]]; then
	job fuzz nice env FUZZTIME="$TEST_FUZZTIME" FUZZPARALLEL=1 FUZZ= bash scripts/fuzz.sh
	FUZZ_JOBS=(fuzz)
fi

say "go test"
rc=0
env "${TEST_ENV_A[@]}" "$GO" test -count=1 -timeout "$TEST_TIMEOUT" "${TESTFLAGS_A[@]}" "${PKGS_A[@]}" || rc=$?
say "go test exited $rc"

for name in "${TOOLS[@]}" golangci-lint chart-tools lint chart-check "${FUZZ_JOBS[@]}" "${EXTRA_TOOLS[@]}"; do
	await "$name" || rc=1
done
if [[ $rc == 0 ]]; then
	tail -n 1 "$LOGS/chart-check.log" >&2
fi

say "step times (s): $(for n in "${JOBS[@]}"; do printf '%s %s; ' "$n" "$(cat "$LOGS/$n.t" 2>/dev/null || echo -)"; done)"
say "make test $([[ $rc == 0 ]] && echo passed || echo FAILED) in $(clock)"
exit "$rc"
