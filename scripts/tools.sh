#!/usr/bin/env bash
# Idempotent installer for the pinned tools that lint and the test suite need.
#
# Tools are cached OUTSIDE the clone, under
#   ${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
#     bin/   Go tools (go install with GOBIN=bin/)
#     npm/   npm packages, one prefix per name-version-<lockfile hash>, installed with
#            `npm ci` from the lockfiles under scripts/tools/ (a lockfile change reinstalls)
# so a second run (or a second clone) only checks versions.
#
# Usage: scripts/tools.sh <subcommand>...
#   golangci-lint   install golangci-lint (pinned) into the cache bin dir
#   mailpit         install mailpit (pinned; SMTP sink for password-reset tests)
#   firebase        install firebase-tools (pinned; Auth emulator): npm ci from
#                   scripts/tools/firebase/package-lock.json under npm/
#   helm            install helm (pinned) into the cache bin dir
#   all             all of the installers above
#   path            print the dir(s) to prepend to PATH, colon-separated
#   dir             print the cache root
#
# Each installer ends with one line `tools.sh: <tool> <version> ready ...` on stderr (or
# `tools.sh: error: ...` and a non-zero exit). Installs of different tools may run
# concurrently (one process each); installs of one tool wait for each other (a lock per tool).
#
# Installs only what is missing or not the pinned version (Go tools: also
# when built by another Go than the current `go`).
set -euo pipefail

GOLANGCI_LINT_VERSION=v2.15.0
MAILPIT_VERSION=v1.33.1
# The single pinned firebase-tools version: scripts/tools/firebase/package.json must depend on
# exactly this version (checked), and its package-lock.json pins the whole tree.
FIREBASE_TOOLS_VERSION=15.34.2
HELM_VERSION=v3.22.0
# Kubernetes version helm assumes without a cluster (helm template/lint without
# --kube-version): helm's Makefile stamps its client-go version (v0.37 -> 1.37);
# unstamped, a go-installed helm assumes 1.20.
HELM_KUBE_VERSION=1.37

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_SRC=$SCRIPT_DIR/tools
TOOLS_DIR=${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
BIN_DIR=$TOOLS_DIR/bin
NPM_DIR=$TOOLS_DIR/npm

log() { printf 'tools.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Serialise installs of one tool (concurrent runs).
with_lock() {
	local name=$1
	shift
	mkdir -p "$TOOLS_DIR"
	if command -v flock >/dev/null 2>&1; then
		(
			flock -w 1800 9 || die "timed out waiting for lock $TOOLS_DIR/.$name.lock"
			"$@"
		) 9>"$TOOLS_DIR/.$name.lock"
	else
		"$@"
	fi
}

# ---- Go tools -------------------------------------------------------------------------------

# go_bin_ok BIN MODULE VERSION: BIN is MODULE@VERSION built by the current Go.
go_bin_ok() {
	local bin=$1 mod=$2 want=$3 info have_mod have_go want_go
	[[ -x $bin ]] || return 1
	info=$(go version -m "$bin" 2>/dev/null) || return 1
	have_go=$(awk 'NR==1 {print $2}' <<<"$info")
	have_mod=$(awk -v m="$mod" '$1=="mod" && $2==m {print $3}' <<<"$info")
	want_go=$(go env GOVERSION)
	if [[ $have_mod != "$want" ]]; then
		log "$(basename "$bin"): have ${have_mod:-unknown version}, want $want"
		return 1
	fi
	if [[ $have_go != "$want_go" ]]; then
		log "$(basename "$bin"): built with ${have_go:-unknown Go}, current Go is $want_go"
		return 1
	fi
	return 0
}

# go_tool NAME MODULE PACKAGE VERSION [LDFLAGS]
go_tool() {
	local name=$1 mod=$2 pkg=$3 version=$4 bin=$BIN_DIR/$1
	command -v go >/dev/null 2>&1 || die "go not found on PATH"
	if go_bin_ok "$bin" "$mod" "$version"; then
		log "$name $version ready at $bin (already installed)"
		return 0
	fi
	with_lock "$name" go_tool_install "$@"
}

go_tool_install() {
	local name=$1 mod=$2 pkg=$3 version=$4 ldflags=${5:-} bin=$BIN_DIR/$1 start
	local -a args=()
	[[ -z $ldflags ]] || args=(-ldflags "$ldflags")
	# Re-check under the lock.
	if go_bin_ok "$bin" "$mod" "$version" 2>/dev/null; then
		log "$name $version ready at $bin (installed meanwhile by another run)"
		return 0
	fi
	mkdir -p "$BIN_DIR"
	log "installing $name $version: go install $pkg@$version (GOBIN=$BIN_DIR)"
	start=$SECONDS
	# Outside the repo, so its go.mod plays no part.
	(cd "$TOOLS_DIR" && GOBIN=$BIN_DIR go install "${args[@]}" "$pkg@$version") ||
		die "go install $pkg@$version failed"
	go_bin_ok "$bin" "$mod" "$version" || die "$name installed but version check failed"
	log "$name $version ready at $bin (installed in $((SECONDS - start))s)"
}

install_golangci_lint() {
	go_tool golangci-lint github.com/golangci/golangci-lint/v2 \
		github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
}

install_mailpit() {
	# Version stamp as in release builds (else `mailpit version` says "dev").
	go_tool mailpit github.com/axllent/mailpit github.com/axllent/mailpit "$MAILPIT_VERSION" \
		"-X github.com/axllent/mailpit/config.Version=$MAILPIT_VERSION"
}

helm_kube_ldflags() {
	local major=${HELM_KUBE_VERSION%%.*} minor=${HELM_KUBE_VERSION#*.} pkg
	for pkg in pkg/lint/rules pkg/chartutil; do
		printf -- '-X helm.sh/helm/v3/%s.k8sVersionMajor=%s -X helm.sh/helm/v3/%s.k8sVersionMinor=%s ' \
			"$pkg" "$major" "$pkg" "$minor"
	done
}

install_helm() {
	# Version stamp as helm's Makefile does.
	go_tool helm helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
		"-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.metadata= $(helm_kube_ldflags)"
}

# ---- npm packages from committed lockfiles ---------------------------------------------------
# npm ci from scripts/tools/<src>/package-lock.json into npm/<name>-<first 12 hex of the
# lockfile's sha256>/: no resolution, exact tree, and a lockfile change installs anew beside
# the old prefix (another clone may still use it).
#
# --ignore-scripts: in firebase-tools' tree only re2 (optional dependency of superstatic,
# the Hosting emulator's server) and protobufjs have install scripts. re2's downloads a
# prebuilt addon from GitHub, else compiles RE2 with node-gyp (most of the old install's CPU);
# without it superstatic falls back to JavaScript RegExp, and the Auth emulator does not load
# it at all. protobufjs' only checks its CLI's version.

lock_hash() { sha256sum "$1/package-lock.json" | cut -c1-12; }

need_node() {
	command -v node >/dev/null 2>&1 || die "node not found on PATH"
	command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
}

# npm_prefix_ok PREFIX SRC: PREFIX holds a finished npm ci of SRC's lockfile.
npm_prefix_ok() {
	[[ -f $1/.installed && -d $1/node_modules ]] && cmp -s "$1/package-lock.json" "$2/package-lock.json"
}

# npm_ci_install NAME PREFIX SRC: (under NAME's lock) npm ci SRC's lockfile into PREFIX.
npm_ci_install() {
	local name=$1 prefix=$2 src=$3 start=$SECONDS
	if npm_prefix_ok "$prefix" "$src"; then
		log "$name: installed meanwhile by another run at $prefix"
		return 0
	fi
	rm -rf "$prefix"
	mkdir -p "$prefix"
	cp "$src/package.json" "$src/package-lock.json" "$prefix/"
	log "installing $name: npm ci from scripts/${src#"$SCRIPT_DIR/"}/package-lock.json into $prefix"
	(cd "$prefix" && npm ci --no-audit --no-fund --no-update-notifier --prefer-offline \
		--ignore-scripts --omit=dev >&2) || die "npm ci in $prefix failed"
	touch "$prefix/.installed"
	log "$name: npm ci took $((SECONDS - start))s"
}

# pkg_version FILE: the "version" of a package.json.
pkg_version() { node -p 'require(process.argv[1]).version' "$1" 2>/dev/null; }

FIREBASE_SRC=$TOOLS_SRC/firebase
firebase_prefix() { printf '%s\n' "$NPM_DIR/firebase-tools-$FIREBASE_TOOLS_VERSION-$(lock_hash "$FIREBASE_SRC")"; }

# The committed package.json must pin FIREBASE_TOOLS_VERSION exactly (package-lock.json must
# match package.json: npm ci refuses otherwise).
firebase_src_check() {
	local want
	want=$(node -p 'require(process.argv[1]).dependencies["firebase-tools"]' "$FIREBASE_SRC/package.json") ||
		die "cannot read $FIREBASE_SRC/package.json"
	[[ $want == "$FIREBASE_TOOLS_VERSION" ]] ||
		die "scripts/tools/firebase/package.json pins firebase-tools '$want' but FIREBASE_TOOLS_VERSION is $FIREBASE_TOOLS_VERSION: change both, then run npm install --package-lock-only there"
}

firebase_ok() {
	local prefix=$1 have
	npm_prefix_ok "$prefix" "$FIREBASE_SRC" && [[ -x $prefix/node_modules/.bin/firebase ]] || return 1
	have=$(pkg_version "$prefix/node_modules/firebase-tools/package.json") || return 1
	if [[ $have != "$FIREBASE_TOOLS_VERSION" ]]; then
		log "firebase-tools: have ${have:-unknown}, want $FIREBASE_TOOLS_VERSION"
		return 1
	fi
}

install_firebase() {
	local prefix start=$SECONDS
	need_node
	firebase_src_check
	prefix=$(firebase_prefix)
	if firebase_ok "$prefix"; then
		log "firebase-tools $FIREBASE_TOOLS_VERSION ready at $prefix (already installed)"
		return 0
	fi
	with_lock firebase-tools npm_ci_install firebase-tools "$prefix" "$FIREBASE_SRC"
	firebase_ok "$prefix" || die "firebase-tools installed but version check failed in $prefix"
	log "firebase-tools $FIREBASE_TOOLS_VERSION ready at $prefix (installed in $((SECONDS - start))s)"
}

# ---- main -----------------------------------------------------------------------------------

print_path() {
	printf '%s:%s\n' "$BIN_DIR" "$(firebase_prefix)/node_modules/.bin"
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
}

main() {
	[[ $# -gt 0 ]] || { usage; exit 2; }
	local cmd
	for cmd in "$@"; do
		case $cmd in
		golangci-lint) install_golangci_lint ;;
		mailpit) install_mailpit ;;
		firebase | firebase-tools) install_firebase ;;
		helm) install_helm ;;
		all)
			install_golangci_lint
			install_mailpit
			install_firebase
			install_helm
			;;
		path) print_path ;;
		dir) printf '%s\n' "$TOOLS_DIR" ;;
		-h | --help | help) usage ;;
		*) usage; die "unknown subcommand: $cmd" ;;
		esac
	done
}

# All code is in functions and the file ends in `exit`: editing it cannot
# change what a running copy executes.
main "$@"
exit
