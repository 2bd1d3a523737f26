# Sigil — the two commands a new machine needs are `make run` and `make test`.
# Everything they use is installed from here (see `tools`).

CARGO ?= cargo
ARGS ?=

.PHONY: run test check tools bench build fmt clean-dev image image-test podman-tools

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
## sign-ins and refresh-token rotation against client credentials (see tests/bench/README.md).
bench:
	bash tests/bench/run.sh
	bash tests/bench/store.sh
	bash tests/bench/signin.sh

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

## The container image `sigil:<version>` (deploy/Containerfile, FROM scratch): a statically
## linked release build of `sigil`, CA certificates and a non-root user. See deploy/IMAGE.md.
image: podman-tools
	bash deploy/image/build.sh

## Build the image, then run it read-only as its non-root user and get a token from it, from the
## host and from a second container of the same image (`sigil smoke`); see tests/image/run.sh.
image-test: image
	bash tests/image/run.sh

## podman and runc from Debian (with netavark and aardvark-dns, so containers on one network find
## each other by name, as pods find Services), and the ulimit setting this machine's kernel needs.
podman-tools:
	@missing=""; \
	for tool in podman runc netavark aardvark-dns curl; do \
		command -v $$tool >/dev/null 2>&1 || [ -x /usr/lib/podman/$$tool ] || missing="$$missing $$tool"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing iptables ca-certificates >/dev/null; \
	fi
	@if [ ! -f /etc/containers/containers.conf ]; then \
		mkdir -p /etc/containers && printf '[containers]\ndefault_ulimits = []\n' > /etc/containers/containers.conf; \
	fi
