#!/usr/bin/env bash
# Idempotent installer for the pinned tools that lint and the test suite need.
#
# Tools are cached OUTSIDE the clone, under
#   ${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
#     bin/   Go tools (go install with GOBIN=bin/), symlinks to the Debian tools
#     npm/   npm packages, one prefix per name-version-<lockfile hash>, installed with
#            `npm ci` from the lockfiles under scripts/tools/ (a lockfile change reinstalls)
#     deb/   Debian packages unpacked (apt-get download + dpkg -x), one dir per package-version
# so a second run (or a second clone) only checks versions.
#
# Usage: scripts/tools.sh <subcommand>...
#   golangci-lint   install golangci-lint (pinned) into the cache bin dir
#   mailpit         install mailpit (pinned; SMTP sink for password-reset tests)
#   firebase        install firebase-tools (pinned; Auth emulator): npm ci from
#                   scripts/tools/firebase/package-lock.json under npm/
#   helm            install helm (pinned) into the cache bin dir
#   nginx           Debian's nginx unpacked under deb/ (no daemon started, nothing installed
#                   in the system), linked as bin/nginx. Run it as a user process:
#                     nginx -p DIR/ -c DIR/nginx.conf -e stderr
#                   with `daemon off;`, `pid` and the *_temp_path directives in DIR (the
#                   compiled-in paths are /etc/nginx, /var/log/nginx, /var/lib/nginx)
#   promtool        promtool from Debian's prometheus package, unpacked under deb/, linked
#                   as bin/promtool (the prometheus server is not installed or started)
#   chromium        chromium + chromium-driver (chromedriver) from Debian, installed in the
#                   system with apt-get (root only: they need ~25 shared-library packages)
#   node-idp        npm ci of scripts/tools/node-idp (oidc-provider, jose: libraries for
#                   node scripts) under npm/
#   node-idp-dir    print the node-idp dir (installed or not): its node_modules/ holds
#                   oidc-provider and jose. ESM ignores NODE_PATH, so a script elsewhere
#                   imports them with import(pathToFileURL(createRequire(DIR + '/')
#                   .resolve('oidc-provider'))); a script inside DIR imports them plainly
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
# Debian packages (bookworm): the upstream version is pinned, the Debian revision is whatever
# the archive serves (security updates replace old revisions, so an exact pin would break).
NGINX_VERSION=1.22.1
PROMETHEUS_VERSION=2.42.0

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_SRC=$SCRIPT_DIR/tools
TOOLS_DIR=${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
BIN_DIR=$TOOLS_DIR/bin
NPM_DIR=$TOOLS_DIR/npm
DEB_DIR=$TOOLS_DIR/deb
# apt-get update / install are machine-wide: one lock for every clone and tool cache.
APT_LOCK_DIR=${CASHLESS_AUTH_APT_LOCK_DIR:-/run/lock}
START_EPOCH=$(date +%s)

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
# it at all. protobufjs' only checks its CLI's version. oidc-provider and jose have none.

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

NODE_IDP_SRC=$TOOLS_SRC/node-idp
node_idp_prefix() { printf '%s\n' "$NPM_DIR/node-idp-$(lock_hash "$NODE_IDP_SRC")"; }

node_idp_versions() {
	printf 'oidc-provider %s, jose %s' \
		"$(pkg_version "$1/node_modules/oidc-provider/package.json")" \
		"$(pkg_version "$1/node_modules/jose/package.json")"
}

node_idp_ok() {
	npm_prefix_ok "$1" "$NODE_IDP_SRC" &&
		[[ -f $1/node_modules/oidc-provider/package.json && -f $1/node_modules/jose/package.json ]]
}

install_node_idp() {
	local prefix start=$SECONDS
	need_node
	prefix=$(node_idp_prefix)
	if node_idp_ok "$prefix"; then
		log "node-idp ($(node_idp_versions "$prefix")) ready at $prefix (already installed)"
		return 0
	fi
	with_lock node-idp npm_ci_install node-idp "$prefix" "$NODE_IDP_SRC"
	node_idp_ok "$prefix" || die "node-idp installed but oidc-provider or jose is missing in $prefix"
	# An OpenID Provider on 127.0.0.1 answers discovery, JWKS and a token request (from the
	# install dir, so that the imports resolve as they will for the scripts that use them).
	cp "$NODE_IDP_SRC/smoke.mjs" "$prefix/smoke.mjs"
	(cd "$prefix" && node smoke.mjs) ||
		die "node-idp installed but its smoke test failed with node $(node --version) (scripts/tools/node-idp/smoke.mjs)"
	log "node-idp ($(node_idp_versions "$prefix")) ready at $prefix (installed in $((SECONDS - start))s)"
}

# ---- Debian packages ------------------------------------------------------------------------

is_root() { [[ $(id -u) == 0 ]]; }

# apt_candidate PKG: the version apt would fetch (empty when the lists do not know PKG).
apt_candidate() {
	local v
	v=$(LC_ALL=C apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" {print $2}')
	[[ $v == "(none)" ]] && v=
	printf '%s\n' "$v"
}

# upstream_of DEBIAN_VERSION: 1:1.22.1-9+deb12u11 -> 1.22.1, 2.42.0+ds-5 -> 2.42.0
upstream_of() {
	local v=${1#*:}
	v=${v%-*}
	printf '%s\n' "${v%%[+~]*}"
}

# with_apt_lock CMD...: machine-wide lock around apt-get update/install by this script.
with_apt_lock() {
	local dir=$APT_LOCK_DIR
	[[ -w $dir ]] || dir=$TOOLS_DIR
	mkdir -p "$dir"
	(
		flock -w 1800 9 || die "timed out waiting for $dir/cashless-auth-apt.lock"
		"$@"
	) 9>"$dir/cashless-auth-apt.lock"
}

apt_stamp() {
	local dir=$APT_LOCK_DIR
	[[ -w $dir ]] || dir=$TOOLS_DIR
	printf '%s\n' "$dir/cashless-auth-apt.updated"
}

# apt_update_once WHY: apt-get update, unless one of this script's runs already did it since
# this run started (concurrent installers of several Debian tools update once).
apt_update_once() {
	local why=$1 stamp
	stamp=$(apt_stamp)
	if [[ -f $stamp ]] && (($(stat -c %Y "$stamp") >= START_EPOCH)); then
		return 0
	fi
	is_root || die "$why, and updating the package lists needs root: run apt-get update as root"
	with_apt_lock apt_update_locked "$why"
}

apt_update_locked() {
	local stamp start=$SECONDS
	stamp=$(apt_stamp)
	if [[ -f $stamp ]] && (($(stat -c %Y "$stamp") >= START_EPOCH)); then
		log "apt package lists were updated meanwhile by another run"
		return 0
	fi
	log "$1: apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 >&2 ||
		die "apt-get update failed"
	touch "$stamp"
	log "apt-get update took $((SECONDS - start))s"
}

# apt_candidate_or_update PKG: the candidate version of PKG, updating the lists first if
# they do not know it.
apt_candidate_or_update() {
	local v
	v=$(apt_candidate "$1")
	if [[ -z $v ]]; then
		apt_update_once "the apt package lists do not know $1"
		v=$(apt_candidate "$1")
		[[ -n $v ]] || die "no Debian package $1 (after apt-get update)"
	fi
	printf '%s\n' "$v"
}

# deb_dir_ok DIR FILE UPSTREAM: DIR is a finished unpack holding FILE, of upstream version UPSTREAM.
deb_dir_ok() {
	local dir=$1 file=$2 want=$3
	[[ -f $dir/.installed && -x $dir/$file ]] || return 1
	[[ $(upstream_of "$(<"$dir/.installed")") == "$want" ]]
}

# deb_tool NAME PKG UPSTREAM FILE CHECK [SELFTEST]: Debian package PKG (upstream version
# UPSTREAM) unpacked into deb/PKG-VERSION/ and $BIN_DIR/NAME -> deb/PKG-VERSION/FILE. CHECK BIN
# prints the version line of the unpacked binary; SELFTEST, if given, runs after an install.
deb_tool() {
	local name=$1 pkg=$2 want=$3 file=$4 check=$5 link=$BIN_DIR/$1 target
	if target=$(readlink "$link") && deb_dir_ok "${target%/"$file"}" "$file" "$want"; then
		log "$name $(<"${target%/"$file"}/.installed") ready at $link (already installed; $("$check" "$link"))"
		return 0
	fi
	with_lock "$name" deb_tool_install "$@"
}

deb_tool_install() {
	local name=$1 pkg=$2 want=$3 file=$4 check=$5 selftest=${6:-} link=$BIN_DIR/$1 start=$SECONDS
	local version dir tmp deb missing
	command -v apt-get >/dev/null 2>&1 || die "$name: apt-get not found (this installer needs Debian)"
	version=$(apt_candidate_or_update "$pkg")
	if [[ $(upstream_of "$version") != "$want" ]]; then
		die "$name: Debian offers $pkg $version, but upstream $want is pinned (${name^^} version in scripts/tools.sh)"
	fi
	dir=$DEB_DIR/$pkg-$version
	if ! deb_dir_ok "$dir" "$file" "$want"; then
		mkdir -p "$DEB_DIR"
		tmp=$(mktemp -d "$DEB_DIR/.$pkg.XXXXXX")
		log "installing $name: apt-get download $pkg=$version; dpkg -x into $dir"
		if ! deb_download "$tmp" "$pkg=$version"; then
			# Lists that name a revision the archive no longer has: update them once.
			apt_update_once "apt-get download $pkg=$version failed"
			version=$(apt_candidate "$pkg")
			dir=$DEB_DIR/$pkg-$version
			deb_download "$tmp" "$pkg=$version" || { rm -rf "$tmp"; die "apt-get download $pkg=$version failed"; }
		fi
		deb=$(compgen -G "$tmp/*.deb" | head -n 1) || { rm -rf "$tmp"; die "apt-get download left no .deb"; }
		mkdir "$tmp/root"
		dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; die "dpkg -x $deb failed"; }
		[[ -x $tmp/root/$file ]] || { rm -rf "$tmp"; die "$pkg $version has no $file"; }
		printf '%s\n' "$version" >"$tmp/root/.installed"
		rm -rf "$dir"
		mv "$tmp/root" "$dir"
		rm -rf "$tmp"
	fi
	# Its shared libraries must come from the system (dpkg -x installs no dependencies).
	missing=$(ldd "$dir/$file" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')
	if [[ -n $missing ]]; then
		die "$name: $dir/$file needs shared libraries this machine lacks: $missing(Depends: $(apt-cache show "$pkg=$version" 2>/dev/null | awk -F': ' '$1 == "Depends" {print $2; exit}'))"
	fi
	mkdir -p "$BIN_DIR"
	ln -sfn "$dir/$file" "$link.tmp.$$"
	mv -fT "$link.tmp.$$" "$link"
	"$check" "$link" >/dev/null || die "$name: $link does not run"
	[[ -z $selftest ]] || "$selftest"
	log "$name $version ready at $link -> $dir/$file (installed in $((SECONDS - start))s; $("$check" "$link"))"
}

# deb_download DIR PKG=VERSION: apt-get download into DIR (no lock, no system change).
deb_download() {
	local -a opts=(-q)
	# As root apt downloads as _apt, which cannot write into a dir under ~root.
	is_root && opts+=(-o APT::Sandbox::User=root)
	(cd "$1" && apt-get download "${opts[@]}" "$2" >&2)
}

nginx_version_line() { "$1" -v 2>&1 | head -n 1; }
promtool_version_line() { "$1" --version 2>&1 | head -n 1; }

install_nginx() {
	deb_tool nginx nginx "$NGINX_VERSION" usr/sbin/nginx nginx_version_line nginx_selftest
}

# nginx_selftest: the unpacked nginx serves a request as a non-daemon user process, with its
# prefix, conf, pid and temp dirs in a temp dir and a unix socket (no port to collide on).
nginx_selftest() {
	local tmp pid i out=
	command -v curl >/dev/null 2>&1 || { log "nginx: curl not found; skipping the self-test"; return 0; }
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/cashless-auth-nginx.XXXXXX")
	cat >"$tmp/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid nginx.pid;
error_log stderr warn;
events { worker_connections 16; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server {
        listen unix:$tmp/nginx.sock;
        location / { return 200 "nginx-selftest-ok\n"; }
    }
}
CONF
	mkdir -p "$tmp/tmp"
	"$BIN_DIR/nginx" -p "$tmp/" -c "$tmp/nginx.conf" -e stderr 2>"$tmp/error.log" &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		out=$(curl -fsS --max-time 2 --unix-socket "$tmp/nginx.sock" http://selftest/ 2>/dev/null) && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -QUIT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [[ $out != nginx-selftest-ok ]]; then
		cat "$tmp/error.log" >&2
		rm -rf "$tmp"
		die "nginx: the self-test (nginx -p DIR -c DIR/nginx.conf -e stderr, daemon off, unix socket) got no answer"
	fi
	rm -rf "$tmp"
	log "nginx self-test passed (non-daemon, prefix and conf in a temp dir)"
}

install_promtool() {
	deb_tool promtool prometheus "$PROMETHEUS_VERSION" usr/bin/promtool promtool_version_line
}

# chromium: installed in the system (its ~25 library dependencies make an unpack impractical).
# Not pinned: Debian security updates replace chromium every few weeks and the old debs go.
CHROMIUM_PKGS=(chromium chromium-driver)

deb_installed_version() {
	dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "installed" {print $2}'
}

chromium_ok() {
	local c d
	c=$(deb_installed_version chromium) && [[ -n $c ]] || return 1
	d=$(deb_installed_version chromium-driver) && [[ -n $d ]] || return 1
	[[ $c == "$d" && -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]
}

install_chromium() {
	local start=$SECONDS
	command -v dpkg-query >/dev/null 2>&1 || die "chromium: dpkg-query not found (this installer needs Debian)"
	if chromium_ok; then
		log "chromium $(deb_installed_version chromium) ready at /usr/bin/chromium, chromedriver at /usr/bin/chromedriver (already installed)"
		return 0
	fi
	is_root || die "chromium: ${CHROMIUM_PKGS[*]} are not installed (or differ in version) and this is not root: as root run DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${CHROMIUM_PKGS[*]}"
	with_lock chromium install_chromium_locked
	chromium_ok || die "chromium: apt-get install finished but chromium/chromium-driver are not installed"
	chromium_verify
	log "chromium $(deb_installed_version chromium) ready at /usr/bin/chromium, chromedriver at /usr/bin/chromedriver (installed in $((SECONDS - start))s)"
}

install_chromium_locked() {
	local v
	chromium_ok && return 0
	v=$(apt_candidate_or_update chromium)
	log "installing chromium $v: apt-get install --no-install-recommends ${CHROMIUM_PKGS[*]}"
	if ! with_apt_lock apt_install "${CHROMIUM_PKGS[@]}"; then
		apt_update_once "apt-get install ${CHROMIUM_PKGS[*]} failed"
		with_apt_lock apt_install "${CHROMIUM_PKGS[@]}" || die "apt-get install ${CHROMIUM_PKGS[*]} failed"
	fi
}

apt_install() {
	# DPkg::Lock::Timeout: wait for an apt/dpkg run outside this script instead of failing.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "$@" >&2
}

chromium_verify() {
	local dom
	dom=$(timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --dump-dom about:blank 2>/dev/null) ||
		die "chromium: chromium --headless --dump-dom about:blank failed"
	[[ $dom == *"<body></body>"* ]] || die "chromium: unexpected --dump-dom output: $dom"
	/usr/bin/chromedriver --version >/dev/null || die "chromium: chromedriver --version failed"
	log "chromium: headless --dump-dom about:blank ok; $(/usr/bin/chromedriver --version | cut -d' ' -f1-2)"
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
		nginx) install_nginx ;;
		promtool | prometheus) install_promtool ;;
		chromium | chromium-driver | chromedriver) install_chromium ;;
		node-idp | oidc-provider | jose) install_node_idp ;;
		node-idp-dir) node_idp_prefix ;;
		all)
			install_golangci_lint
			install_mailpit
			install_firebase
			install_helm
			install_nginx
			install_promtool
			install_chromium
			install_node_idp
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
