#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one after another, each for FUZZTIME, and fails if
# any finds a failing input, saying where the input was written and how to re-run it.
#
#   make fuzz                        # every target, 30 s each
#   make fuzz FUZZTIME=5m            # longer
#   make fuzz FUZZ=FuzzVerify PKGS=./core/tokens
#
# Targets are discovered, never listed here: packages whose test files mention testing.F
# (go list, cheap), then `go test -list '^Fuzz'` on those packages for the exact names.
#
# Environment:
#   FUZZTIME          time (or Nx iterations) per target (default 30s)
#   FUZZ              regexp: run only the targets whose name matches (default: all)
#   PKGS              packages to search (default ./...)
#   FUZZPARALLEL      fuzzing workers per target (default: go's, GOMAXPROCS)
#   FUZZMINIMIZETIME  go test -fuzzminimizetime (default 500x). Go minimizes every new
#                     interesting input too, up to 60 s each by default, which can eat a short
#                     run whole (measured: 3926 executions in 30 s instead of ~400000);
#                     a failing input is written whatever the minimization achieved.
#   GO                the go command (default go)
# A new failing input lands in <package>/testdata/fuzz/<FuzzName>/<hash>: once fixed, keep it
# there (renamed after what it exercises) and it runs in every `go test` as a regression test.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZ=${FUZZ:-.}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-500x}
read -r -a PKGS_A <<<"${PKGS:-./...}"
export CGO_ENABLED=${CGO_ENABLED:-0}

parallel=()
if [[ -n ${FUZZPARALLEL:-} ]]; then
	parallel=(-parallel "$FUZZPARALLEL")
fi

# A hung target is not bounded by go test -timeout while fuzzing: guard each run when FUZZTIME
# is a plain duration.
guard=0
if [[ $FUZZTIME =~ ^([0-9]+)(s|m|h)$ ]]; then
	n=${BASH_REMATCH[1]}
	case ${BASH_REMATCH[2]} in
	s) guard=$n ;;
	m) guard=$((n * 60)) ;;
	h) guard=$((n * 3600)) ;;
	esac
	guard=$((guard * 2 + 300))
fi

say() { printf '== fuzz: %s\n' "$*" >&2; }

# Packages with a fuzz target candidate: "<import path> <dir>".
packages=$("$GO" list -f '{{.ImportPath}} {{.Dir}}{{range .TestGoFiles}} {{.}}{{end}}{{range .XTestGoFiles}} {{.}}{{end}}' "${PKGS_A[@]}")
candidates=()
while read -r pkg dir files; do
	[[ -n $files ]] || continue
	# shellcheck disable=SC2086 # the file names are words
	if (cd "$dir" && grep -q 'testing\.F\b' $files); then
		candidates+=("$pkg $dir")
	fi
done <<<"$packages"

targets=() # "<import path> <dir> <FuzzName>"
for c in "${candidates[@]}"; do
	read -r pkg dir <<<"$c"
	list=$("$GO" test -list '^Fuzz' "$pkg") || {
		say "cannot list the targets of $pkg:"
		echo "$list" >&2
		exit 1
	}
	while read -r name; do
		[[ $name =~ ^Fuzz && $name =~ $FUZZ ]] && targets+=("$pkg $dir $name")
	done <<<"$list"
done
if ((${#targets[@]} == 0)); then
	say "no fuzz target matches FUZZ=$FUZZ in ${PKGS_A[*]}"
	exit 1
fi
say "${#targets[@]} targets, $FUZZTIME each"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()
start=$SECONDS
for t in "${targets[@]}"; do
	read -r pkg dir name <<<"$t"
	log=$logs/$name.log
	s=$SECONDS
	cmd=("$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "${parallel[@]}" "$pkg")
	if ((guard > 0)); then
		cmd=(timeout -k 30 "$guard" "${cmd[@]}")
	fi
	rc=0
	"${cmd[@]}" >"$log" 2>&1 || rc=$?
	# Go 1.26's fuzz coordinator can report the end of a duration -fuzztime as a bare "context
	# deadline exceeded" failure, having found nothing (golang/go#75804, fixed in Go 1.27): no
	# input is written then. Run such a target once more; a real finding writes its input.
	if ((rc == 1)) && grep -q '^    context deadline exceeded$' "$log" && ! grep -q 'Failing input written' "$log"; then
		say "$name: Go's end-of-fuzztime race (golang/go#75804), nothing found: running it once more"
		rc=0
		"${cmd[@]}" >"$log" 2>&1 || rc=$?
	fi
	if ((rc == 0)); then
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 || true)
		say "ok   $name ($pkg) $((SECONDS - s))s${execs:+, $execs}"
		continue
	fi
	failed+=("$name")
	say "FAIL $name ($pkg) after $((SECONDS - s))s, exit $rc; its log:"
	sed 's/^/    /' "$log" >&2
	if ((rc == 124)); then
		say "$name still ran ${guard}s after it started: a hang (no input is written for one)"
	fi
	# go test names the input relative to the package: "Failing input written to testdata/fuzz/…".
	input=$(sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$log" | tail -n 1)
	if [[ -n $input ]]; then
		rel=${dir#"$ROOT"/}/$input
		say "failing input: $rel"
		say "re-run it:     $GO test -run '$name/${input##*/}' ./${dir#"$ROOT"/}"
		say "once fixed, keep it (renamed after what it exercises) as a regression seed"
	fi
done

if ((${#failed[@]} > 0)); then
	say "FAILED: ${failed[*]} (of ${#targets[@]} targets, $((SECONDS - start))s)"
	exit 1
fi
say "all ${#targets[@]} targets passed in $((SECONDS - start))s"
