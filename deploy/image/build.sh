#!/usr/bin/env bash
# Builds the container image `sigil:<version>` from deploy/Containerfile (`make image`).
#
# No base image can be pulled, so the image starts FROM scratch and everything in it is staged
# here: a statically linked release build of `sigil`, the build machine's CA bundle, and the
# passwd/group files naming the non-root user. The static build uses an explicit `--target` so
# that RUSTFLAGS apply to the binary only (build scripts and proc-macros stay dynamic) and the
# host build's cache is left alone.
#
# Environment: CARGO_TARGET_DIR (default ./target), SIGIL_IMAGE (default sigil:<version>).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="$(realpath -m -- "${CARGO_TARGET_DIR:-$ROOT/target}")"
TRIPLE=x86_64-unknown-linux-gnu
BINARY="$TARGET_DIR/$TRIPLE/release/sigil"
CONTEXT="$TARGET_DIR/image-context"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

if [[ ! -s "$CA_BUNDLE" ]]; then
  echo "installing Debian package: ca-certificates"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null
fi

echo "building a static sigil ($TRIPLE, release)"
start=$(date +%s)
(cd "$ROOT" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked -p sigil --target "$TRIPLE")
echo "static release build took $(( $(date +%s) - start )) s"

# A dynamically linked binary would start on the build machine and fail in the image with a
# bare "no such file or directory": refuse it here instead.
if readelf -l "$BINARY" | grep -q 'INTERP' || readelf -d "$BINARY" | grep -q '(NEEDED)'; then
  echo "error: $BINARY is not statically linked" >&2
  readelf -d "$BINARY" | grep '(NEEDED)' >&2 || true
  exit 1
fi

VERSION="$("$BINARY" --version | awk '{print $2}')"
IMAGE="${SIGIL_IMAGE:-sigil:$VERSION}"
REVISION="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]]; then REVISION="$REVISION-dirty"; fi
# The commit's time, not the build's, so that rebuilding the same commit gives the same labels.
CREATED="$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || echo unknown)"

rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/data"
# Without the symbol table the binary is a fifth smaller. Panic messages keep their file and
# line; to read addresses in a backtrace, use the unstripped build (same build id) in TARGET_DIR.
strip --strip-all -o "$CONTEXT/sigil" "$BINARY"
cp "$CA_BUNDLE" "$CONTEXT/ca-certificates.crt"
cp "$ROOT"/deploy/image/{passwd,group,nsswitch.conf} "$CONTEXT/"

previous="$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
# One layer per build and no intermediate images left behind.
podman build --quiet --layers=false \
  --build-arg "VERSION=$VERSION" \
  --build-arg "REVISION=$REVISION" \
  --build-arg "CREATED=$CREATED" \
  -t "$IMAGE" -f "$ROOT/deploy/Containerfile" "$CONTEXT" >/dev/null
current="$(podman image inspect --format '{{.Id}}' "$IMAGE")"
if [[ -n "$previous" && "$previous" != "$current" ]]; then
  podman rmi "$previous" >/dev/null 2>&1 || true   # the build this one replaced, unless in use
fi
size="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
echo "built $IMAGE: $(( size / 1000000 )) MB (the stripped binary $(( $(stat -c %s "$CONTEXT/sigil") / 1000000 )) MB)"
