#!/usr/bin/env bash
# Idempotent installer for the pinned tools that lint and the test suite need.
#
# Tools are cached OUTSIDE the clone, under
#   ${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
#     bin/   Go tools (go install with GOBIN=bin/)
#     npm/   npm packages, one prefix per name-version
# so a second run (or a second clone) only checks versions.
#
# Usage: scripts/tools.sh <subcommand>...
#   golangci-lint   install golangci-lint (pinned) into the cache bin dir
#   mailpit         install mailpit (pinned; SMTP sink for password-reset tests)
#   firebase        install firebase-tools (pinned; Auth emulator) under npm/
#   helm            install helm (pinned) into the cache bin dir
#   all             all of the above
#   path            print the dir(s) to prepend to PATH, colon-separated
#   dir             print the cache root
#
# Installs only what is missing or not the pinned version (Go tools: also
# when built by another Go than the current `go`).
set -euo pipefail

GOLANGCI_LINT_VERSION=v2.15.0
MAILPIT_VERSION=v1.33.1
FIREBASE_TOOLS_VERSION=15.34.2
HELM_VERSION=v3.22.0
# Kubernetes version helm assumes without a cluster (helm template/lint without
# --kube-version): helm's Makefile stamps its client-go version (v0.37 -> 1.37);
# unstamped, a go-installed helm assumes 1.20.
HELM_KUBE_VERSION=1.37

TOOLS_DIR=${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
BIN_DIR=$TOOLS_DIR/bin
NPM_DIR=$TOOLS_DIR/npm
FIREBASE_PREFIX=$NPM_DIR/firebase-tools-$FIREBASE_TOOLS_VERSION

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
		log "$name $version already installed at $bin"
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
		log "$name $version already installed at $bin"
		return 0
	fi
	mkdir -p "$BIN_DIR"
	log "installing $name $version: go install $pkg@$version (GOBIN=$BIN_DIR)"
	start=$SECONDS
	# Outside the repo, so its go.mod plays no part.
	(cd "$TOOLS_DIR" && GOBIN=$BIN_DIR go install "${args[@]}" "$pkg@$version") ||
		die "go install $pkg@$version failed"
	go_bin_ok "$bin" "$mod" "$version" || die "$name installed but version check failed"
	log "installed $name $version in $((SECONDS - start))s"
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

firebase_ok() {
	local pkg=$FIREBASE_PREFIX/node_modules/firebase-tools/package.json have
	# .installed is written after npm succeeded: an interrupted install is redone.
	[[ -f $FIREBASE_PREFIX/.installed && -f $pkg && -x $FIREBASE_PREFIX/node_modules/.bin/firebase ]] || return 1
	have=$(node -p 'require(process.argv[1]).version' "$pkg" 2>/dev/null) || return 1
	if [[ $have != "$FIREBASE_TOOLS_VERSION" ]]; then
		log "firebase-tools: have ${have:-unknown}, want $FIREBASE_TOOLS_VERSION"
		return 1
	fi
	return 0
}

install_firebase() {
	command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
	command -v node >/dev/null 2>&1 || die "node not found on PATH"
	if firebase_ok; then
		log "firebase-tools $FIREBASE_TOOLS_VERSION already installed at $FIREBASE_PREFIX"
		return 0
	fi
	with_lock firebase-tools install_firebase_locked
}

install_firebase_locked() {
	local start
	if firebase_ok 2>/dev/null; then
		log "firebase-tools $FIREBASE_TOOLS_VERSION already installed at $FIREBASE_PREFIX"
		return 0
	fi
	mkdir -p "$FIREBASE_PREFIX"
	rm -f "$FIREBASE_PREFIX/.installed"
	log "installing firebase-tools $FIREBASE_TOOLS_VERSION: npm install --prefix $FIREBASE_PREFIX (takes minutes the first time)"
	start=$SECONDS
	(cd "$FIREBASE_PREFIX" &&
		npm install --prefix "$FIREBASE_PREFIX" --no-audit --no-fund --no-update-notifier \
			"firebase-tools@$FIREBASE_TOOLS_VERSION" >&2) ||
		die "npm install firebase-tools@$FIREBASE_TOOLS_VERSION failed"
	touch "$FIREBASE_PREFIX/.installed"
	firebase_ok || die "firebase-tools installed but version check failed"
	log "installed firebase-tools $FIREBASE_TOOLS_VERSION in $((SECONDS - start))s"
}

print_path() {
	printf '%s:%s\n' "$BIN_DIR" "$FIREBASE_PREFIX/node_modules/.bin"
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
		all) install_golangci_lint; install_mailpit; install_firebase; install_helm ;;
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
#                                                 
exit
