# cashless-auth — GNU make. `make help` lists the targets.
#
# Pinned tools live outside the clone, under
# $(CASHLESS_AUTH_TOOLS) (default ~/.cache/cashless-auth), see scripts/tools.sh.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

GO ?= go
PKGS ?= ./...
TEST_TIMEOUT ?= 30m
# Extra flags for `go test`, e.g. make test TESTFLAGS='-run TestLogin -v'
TESTFLAGS ?=
# Extra arguments for `make run`, e.g. make run ARGS='--config dev.yaml'
ARGS ?=
# `make fuzz`: time per fuzz target, and a regexp picking targets (make fuzz FUZZ=FuzzVerify)
FUZZTIME ?= 30s
FUZZ ?=

BINARY := bin/cashless-auth
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# The tool cache's bin dir(s) come first on PATH for every recipe.
export CASHLESS_AUTH_TOOLS ?= $(HOME)/.cache/cashless-auth
export PATH := $(shell CASHLESS_AUTH_TOOLS='$(CASHLESS_AUTH_TOOLS)' bash scripts/tools.sh path):$(PATH)

# Pinned tools installed by `make tools`. Add firebase/helm here when needed.
TOOLS := golangci-lint mailpit
TOOLS += firebase

# ---- `make test` hooks -------------------------------------------------------
# scripts/test.sh runs the suite (see its header for the order). Adding a dependency:
#   a tool the tests need         TEST_TOOLS += <scripts/tools.sh name>
#   a background service          TEST_SERVICES += <name>   (scripts/services.sh <name>-start/-stop,
#                                 stopped after go test, pass or fail)
#   an environment variable       TEST_ENV += VAR=value
TEST_TOOLS := mailpit firebase
# oidc-provider for the OIDC lane's tests (modules/oidc/op_test.go); they install it themselves
# too, but here it installs beside the compiler instead of inside go test's time.
TEST_TOOLS += node-idp
# headless Chromium (Debian chromium + chromium-driver, as root) for the API reference pages'
# render test (modules/apidocs/browser_test.go), which fails without it.
TEST_TOOLS += chromium
# promtool (Debian package prometheus, unpacked) for the chart's alert rules: scripts/chart.sh
# check runs promtool check rules / test rules on them.
TEST_TOOLS += promtool
# nginx (Debian package, unpacked; run as a user process) for the gateway forward-auth test
# (modules/forwardauth/nginx_test.go).
TEST_TOOLS += nginx
TEST_SERVICES := mailpit firebase-emulator
TEST_ENV := FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099
export TEST_TOOLS TEST_SERVICES TEST_ENV TEST_TIMEOUT TESTFLAGS GO PKGS
# -----------------------------------------------------------------------------

.PHONY: help test test-deps test-short fuzz vet lint lint-tools fmt build run bench \
	tools services mailpit-start mailpit-stop clean

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

test: ## whole suite: services, vet, lint, go test on both backends, chart checks (what CI runs)
	bash scripts/test.sh

test-deps: services lint-tools ## install the tools `make test` needs and check PostgreSQL/Redis
	bash scripts/tools.sh $(TEST_TOOLS)

test-short: ## unit tests only, no services (go test -short)
	$(GO) test -short $(TESTFLAGS) $(PKGS)

fuzz: ## every fuzz target in PKGS, FUZZTIME each (default 30s; FUZZ=regexp picks targets); fails on a crash
	FUZZTIME='$(FUZZTIME)' FUZZ='$(FUZZ)' bash scripts/fuzz.sh

vet: ## go vet
	$(GO) vet $(PKGS)

lint: lint-tools ## golangci-lint (config: .golangci.yml)
	golangci-lint run --allow-serial-runners $(PKGS)

lint-tools:
	bash scripts/tools.sh golangci-lint

fmt: lint-tools ## rewrite files with gofmt -s and goimports
	golangci-lint fmt $(PKGS)

build: ## static binary bin/cashless-auth
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BINARY) ./cmd/cashless-auth

run: ## go run ./cmd/cashless-auth serve
	$(GO) run ./cmd/cashless-auth serve $(ARGS)

bench: ## load test of issue 7 vs a bare baseline, ratios in bench/results/latest.txt (docs/performance.md)
	bash bench/run.sh

tools: ## install the pinned tools into the cache
	bash scripts/tools.sh $(TOOLS)

services: ## make sure PostgreSQL and Redis answer (start local ones if down)
	bash scripts/services.sh ensure

mailpit-start: ## start mailpit on 127.0.0.1:1025 (SMTP) / :8025 (API)
	bash scripts/services.sh mailpit-start

mailpit-stop: ## stop mailpit started by mailpit-start
	bash scripts/services.sh mailpit-stop

.PHONY: firebase-emulator-start firebase-emulator-stop
firebase-emulator-start: ## start the Firebase Auth emulator on 127.0.0.1:9099
	bash scripts/services.sh firebase-emulator-start

firebase-emulator-stop: ## stop the emulator started by firebase-emulator-start
	bash scripts/services.sh firebase-emulator-stop

.PHONY: chart-check
chart-check: ## helm lint/template + offline schema validation + config load, per tenant; promtool on the alerts (scripts/chart.sh)
	bash scripts/chart.sh check

clean: ## remove build outputs
	rm -rf bin/ coverage.out *.prof
