#!/usr/bin/env bash
# Checks of the Helm chart deployments/helm/cashless-auth, offline, with pinned tools.
#
# Usage: scripts/chart.sh check | tools
#   tools  only install what check needs (helm, kubernetes-models, promtool), e.g. ahead of time
#
# For every tenant values file deployments/tenants/*.yaml:
#   1. helm lint --strict
#   2. helm template (hooks included) for each Kubernetes version in $CHART_KUBE_VERSIONS
#   3. scripts/validate-manifests/validate.mjs: every rendered document against the
#      Kubernetes schemas of the npm package kubernetes-models (unknown kinds and unknown
#      fields fail), plus the chart's rules (references, security baseline, no inline
#      secrets); extracts the rendered config.yaml and the Secret-fed env names into
#      $OUT/<tenant>/
# then checks that the chart refuses bad values (missing Secret names, inline secrets, a
# grace period shorter than the drain); renders the monitoring objects (off by default:
# monitoring.prometheusRule / monitoring.dashboard) as release "tenant" in namespace "tenant",
# validates the dashboard's ConfigMap as above, extracts the PrometheusRule's groups
# (deployments/monitoring/extract.mjs) and runs `promtool check rules` and `promtool test rules`
# with the unit tests in deployments/monitoring/tests/; and finally runs
#   go test ./deployments/ -run TestRenderedTenantConfigsLoad
# with CASHLESS_AUTH_RENDERED_CONFIGS=$OUT, so each tenant's rendered config must load in
# cashless-auth's own config loader.
#
# Tools (installed on first use, cached under ${CASHLESS_AUTH_TOOLS:-~/.cache/cashless-auth}):
#   helm               scripts/tools.sh helm (go install, ~3 min the first time)
#   kubernetes-models  npm ci from scripts/validate-manifests/package-lock.json into
#                      npm/validate-manifests-<lock hash>/ (~1 min the first time)
#   promtool           scripts/tools.sh promtool (Debian's prometheus package, unpacked)
#
# Environment:
#   CHART_KUBE_VERSIONS  cluster versions to render for (default "1.28.0 1.31.0": without
#                        and with the preStop sleep action)
#   CHART_OUT            keep rendered manifests and configs here (default: a temp dir,
#                        removed on exit)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART=$ROOT/deployments/helm/cashless-auth
TENANTS=$ROOT/deployments/tenants
VALIDATOR=$ROOT/scripts/validate-manifests
TOOLS_DIR=${CASHLESS_AUTH_TOOLS:-$HOME/.cache/cashless-auth}
export CASHLESS_AUTH_TOOLS=$TOOLS_DIR
KUBE_VERSIONS=${CHART_KUBE_VERSIONS:-1.28.0 1.31.0}
NODE_MIN_MAJOR=18

log() { printf 'chart.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- tools ----------------------------------------------------------------------------------

ensure_helm() {
	bash "$ROOT/scripts/tools.sh" helm
	HELM=$TOOLS_DIR/bin/helm
	[[ -x $HELM ]] || die "helm not found at $HELM after scripts/tools.sh helm"
}

ensure_promtool() {
	bash "$ROOT/scripts/tools.sh" promtool ||
		die "promtool could not be installed (scripts/tools.sh promtool: Debian package prometheus), so the alert rules cannot be checked; the output above says why"
	PROMTOOL=$TOOLS_DIR/bin/promtool
	[[ -x $PROMTOOL ]] || die "promtool not found at $PROMTOOL after scripts/tools.sh promtool"
}

lock_hash() { sha256sum "$VALIDATOR/package-lock.json" | cut -c1-12; }

validator_ok() {
	[[ -f $NPM_PREFIX/.installed && -f $NPM_PREFIX/node_modules/kubernetes-models/package.json ]] || return 1
	cmp -s "$NPM_PREFIX/package-lock.json" "$VALIDATOR/package-lock.json"
}

ensure_validator() {
	command -v node >/dev/null 2>&1 || die "node not found on PATH (Node >= $NODE_MIN_MAJOR needed)"
	command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
	local major
	major=$(node -p 'process.versions.node.split(".")[0]')
	((major >= NODE_MIN_MAJOR)) || die "Node $(node --version) is too old: >= $NODE_MIN_MAJOR needed"
	NPM_PREFIX=$TOOLS_DIR/npm/validate-manifests-$(lock_hash)
	if validator_ok; then
		log "kubernetes-models $(km_version) already installed at $NPM_PREFIX"
		return 0
	fi
	mkdir -p "$TOOLS_DIR"
	if command -v flock >/dev/null 2>&1; then
		(
			flock -w 1800 9 || die "timed out waiting for $TOOLS_DIR/.validate-manifests.lock"
			install_validator
		) 9>"$TOOLS_DIR/.validate-manifests.lock"
	else
		install_validator
	fi
}

install_validator() {
	local start=$SECONDS
	validator_ok && return 0
	rm -rf "$NPM_PREFIX"
	mkdir -p "$NPM_PREFIX"
	cp "$VALIDATOR/package.json" "$VALIDATOR/package-lock.json" "$NPM_PREFIX/"
	log "installing kubernetes-models (npm ci from scripts/validate-manifests/package-lock.json) into $NPM_PREFIX"
	(cd "$NPM_PREFIX" && npm ci --no-audit --no-fund --no-update-notifier --ignore-scripts >&2) ||
		die "npm ci in $NPM_PREFIX failed"
	touch "$NPM_PREFIX/.installed"
	log "installed kubernetes-models $(km_version) in $((SECONDS - start))s"
}

km_version() { node -p 'require(process.argv[1]).version' "$NPM_PREFIX/node_modules/kubernetes-models/package.json"; }

# ---- checks ---------------------------------------------------------------------------------

# expect_fail DESCRIPTION PATTERN HELM_TEMPLATE_ARGS...: the chart must refuse these values
# with a message matching PATTERN.
expect_fail() {
	local what=$1 pattern=$2 out
	shift 2
	if out=$("$HELM" template refuse "$CHART" --namespace refuse --kube-version "${KUBE_VERSIONS##* }" "$@" 2>&1); then
		log "FAIL: the chart rendered although $what"
		return 1
	fi
	if ! grep -qE -- "$pattern" <<<"$out"; then
		log "FAIL: $what: the chart failed without the expected message /$pattern/:"
		printf '%s\n' "$out" >&2
		return 1
	fi
	log "ok: refuses to render when $what"
}

check() {
	local work out tenant file kv rc=0 start=$SECONDS
	ensure_helm
	ensure_validator
	ensure_promtool
	if [[ -n ${CHART_OUT:-} ]]; then
		work=$CHART_OUT
		rm -rf "$work"
		mkdir -p "$work"
	else
		work=$(mktemp -d "${TMPDIR:-/tmp}/cashless-auth-chart.XXXXXX")
		# shellcheck disable=SC2064 # expand now: $work is local to this function
		trap "rm -rf $(printf %q "$work")" EXIT
	fi
	out=$work/configs
	# Keep helm away from the user's helm config and repositories.
	export HELM_CONFIG_HOME=$work/helm/config HELM_CACHE_HOME=$work/helm/cache HELM_DATA_HOME=$work/helm/data
	log "$("$HELM" version --short) / node $(node --version) / kubernetes-models $(km_version) / $("$PROMTOOL" --version 2>&1 | head -n 1); kube versions: $KUBE_VERSIONS"

	shopt -s nullglob
	local files=("$TENANTS"/*.yaml)
	((${#files[@]} > 0)) || die "no tenant values files in $TENANTS"
	for file in "${files[@]}"; do
		tenant=$(basename "$file" .yaml)
		log "== $tenant"
		for kv in $KUBE_VERSIONS; do
			if ! "$HELM" lint "$CHART" --strict --quiet -f "$file" --kube-version "$kv" --namespace "$tenant" >&2; then
				log "FAIL: helm lint $tenant (kube $kv)"
				rc=1
				continue
			fi
			rm -rf "$work/manifests/$tenant/$kv"
			if ! "$HELM" template "$tenant" "$CHART" -f "$file" --namespace "$tenant" --kube-version "$kv" \
				--output-dir "$work/manifests/$tenant/$kv" >/dev/null; then
				log "FAIL: helm template $tenant (kube $kv)"
				rc=1
				continue
			fi
			if ! node "$VALIDATOR/validate.mjs" --modules "$NPM_PREFIX/node_modules" \
				--extract "$out/$tenant" "$work/manifests/$tenant/$kv" >&2; then
				log "FAIL: manifests of $tenant (kube $kv)"
				rc=1
			fi
		done
	done

	log "== values the chart must refuse"
	local base=$TENANTS/white-label-minimal.yaml
	expect_fail "no Secret is named" "secrets\.databaseURL: no Secret named" -f "$base" --set secrets.existingSecret= || rc=1
	expect_fail "the Redis URL's Secret is missing" "secrets\.redisURL: no Secret named" -f "$base" \
		--set secrets.existingSecret=,secrets.databaseURL.secret=db,secrets.jwtSecret.secret=k,secrets.encryptionKey.secret=k || rc=1
	expect_fail "a secret is inlined in config" "config\.jwt\.secret must not be set" -f "$base" \
		--set config.jwt.secret=0123456789abcdef0123456789abcdef || rc=1
	expect_fail "the database URL is inlined in config" "config\.database\.url must not be set" -f "$base" \
		--set config.database.url=postgres://u:p@db/auth || rc=1
	expect_fail "twilio has no auth token Secret" "secrets\.twilioAuthToken" -f "$base" \
		--set secrets.existingSecret=,secrets.databaseURL.secret=s,secrets.redisURL.secret=s,secrets.jwtSecret.secret=s,secrets.encryptionKey.secret=s,config.sms.provider=twilio || rc=1
	expect_fail "a keyring has no active kid" "config\.jwt\.active_kid" -f "$base" \
		--set secrets.jwtKeys.secret=keys --set config.jwt.active_kid= || rc=1
	expect_fail "the keys dir is set in config" "config\.jwt\.keys_dir is set by the chart" -f "$base" \
		--set config.jwt.keys_dir=/keys || rc=1
	expect_fail "the grace period is shorter than the drain" "terminationGracePeriodSeconds" -f "$base" \
		--set terminationGracePeriodSeconds=10 || rc=1

	check_monitoring "$work/monitoring" || rc=1

	if ((rc != 0)); then
		log "chart checks FAILED after $((SECONDS - start))s"
		return "$rc"
	fi

	log "== rendered configs load in cashless-auth (go test ./deployments/)"
	(cd "$ROOT" && CASHLESS_AUTH_RENDERED_CONFIGS=$out go test ./deployments/ -run TestRenderedTenantConfigsLoad -count=1 -v) || rc=$?
	if ((rc != 0)); then
		log "chart checks FAILED after $((SECONDS - start))s"
		return "$rc"
	fi
	log "chart checks passed for ${#files[@]} tenant(s) in $((SECONDS - start))s"
}

# check_monitoring DIR: the alerts and the dashboard, rendered with the default thresholds, are
# valid, and every alert fires on its synthetic series and stays quiet on a normal one.
check_monitoring() {
	local dir=$1 manifests=$1/manifests test
	log "== monitoring: PrometheusRule and Grafana dashboard"
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! "$HELM" template tenant "$CHART" -f "$TENANTS/white-label-minimal.yaml" --namespace tenant \
		--kube-version "${KUBE_VERSIONS##* }" --output-dir "$manifests" \
		--set monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true >/dev/null; then
		log "FAIL: helm template with monitoring enabled"
		return 1
	fi
	node "$ROOT/deployments/monitoring/extract.mjs" --modules "$NPM_PREFIX/node_modules" \
		--rules "$dir/rules.yaml" --dashboard "$dir/dashboard.json" "$manifests" || {
		log "FAIL: the rendered monitoring objects"
		return 1
	}
	# kubernetes-models knows no PrometheusRule (a CRD): promtool checks that one below.
	find "$manifests" -name prometheusrule.yaml -delete
	node "$VALIDATOR/validate.mjs" --modules "$NPM_PREFIX/node_modules" "$manifests" >&2 || {
		log "FAIL: manifests with monitoring enabled"
		return 1
	}
	"$PROMTOOL" check rules "$dir/rules.yaml" >&2 || {
		log "FAIL: promtool check rules"
		return 1
	}
	shopt -s nullglob
	local tests=("$ROOT"/deployments/monitoring/tests/*.yaml)
	((${#tests[@]} > 0)) || { log "FAIL: no promtool tests in deployments/monitoring/tests/"; return 1; }
	# The tests name rules.yaml beside them.
	for test in "${tests[@]}"; do cp "$test" "$dir/"; done
	(cd "$dir" && "$PROMTOOL" test rules "${tests[@]##*/}") >&2 || {
		log "FAIL: promtool test rules (deployments/monitoring/tests/)"
		return 1
	}
	log "ok: $(grep -c '^ *- alert:' "$dir/rules.yaml") alerts checked and unit-tested by promtool"
}

case ${1:-} in
check) check ;;
tools)
	ensure_helm
	ensure_validator
	ensure_promtool
	;;
-h | --help | help | "")
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	[[ -n ${1:-} ]] || exit 2
	;;
*) die "unknown subcommand: $1 (want: check or tools)" ;;
esac
