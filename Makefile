# Sigil — the two commands a new machine needs are `make run` and `make test`.
# Everything they use is installed from here (see `tools`).

CARGO ?= cargo
ARGS ?=

.PHONY: run test check tools bench build fmt clean-dev

## Start `sigil dev` on 127.0.0.1:8080 (embedded store, generated key, demo client). ARGS="--listen 127.0.0.1:9000" to change.
run:
	$(CARGO) run -p sigil -- dev --log-format pretty $(ARGS)

## Build everything and run the whole test suite (unit, store, HTTP and end-to-end tests).
test: tools
	$(CARGO) build -p sigil
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

## Fast static checks: formatting and clippy with warnings as errors.
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Client-credentials throughput against the signing ceiling and a peer server, then the
## replicated grant store: writes, consumes, reference tokens and introspection, then whole
## sign-ins and refresh-token rotation against client credentials, then how fast a token pod
## starts (see tests/bench/README.md).
bench:
	bash tests/bench/run.sh
	bash tests/bench/store.sh
	bash tests/bench/signin.sh
	bash tests/bench/start.sh

## Tools the tests need: promtool (checks the /metrics exposition), openssl (makes PKCS#1/SEC1
## keys), iproute2's `ip` (network namespaces for the silent-partition test, which runs as
## root), and for the browser tests Chromium with playwright-core (pinned in
## tests/browser/package.json, installed into tests/browser/node_modules, which git ignores).
tools:
	@missing=""; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-from-lock; then \
		echo "installing tests/browser/node_modules (npm ci)"; \
		cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && \
		cp package-lock.json node_modules/.installed-from-lock; \
	fi

build:
	$(CARGO) build --workspace

fmt:
	$(CARGO) fmt --all

## Forget the dev key, demo client and grants (everything under ./.sigil).
clean-dev:
	rm -rf .sigil
