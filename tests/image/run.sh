#!/usr/bin/env bash
# The image test (`make image-test`, after `make image`): runs the image as Kubernetes would
# with the chart's security context — read-only root filesystem, no /tmp, data on a volume —
# and checks from the outside that it serves, issues tokens, and runs as its non-root user.
#
# 1. `sigil dev` in a container on its own network, root filesystem read-only (and no tmpfs
#    on /tmp or /run either), /data a host directory owned by uid 65532; waits for /readyz.
# 2. From the host: a client-credentials token with curl, and `sigil smoke` (the same static
#    binary) with `--url` standing in for the issuer's address.
# 3. From a second container of the image: `sigil smoke` against the issuer by container name,
#    resolved through the network's DNS server as a Service name is in a cluster; and with a
#    wrong issuer, which must fail. From inside the first container: `localhost` resolves.
# 4. The container process (seen from the host in /proc) has uid/gid 65532 and no effective
#    capabilities, and its root mount is read-only.
#
# Removes every container, network and directory it creates. Environment: SIGIL_IMAGE
# (default sigil:<workspace version>), CARGO_TARGET_DIR (for the static binary).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="$(realpath -m -- "${CARGO_TARGET_DIR:-$ROOT/target}")"
HOST_SIGIL="$TARGET_DIR/x86_64-unknown-linux-gnu/release/sigil"
VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
IMAGE="${SIGIL_IMAGE:-sigil:$VERSION}"
PODMAN=(podman --runtime runc)
UID_GID=65532

NAME="sigil-image-test-$$"
DATA="$(mktemp -d)"
started=$(date +%s)

cleanup() {
  "${PODMAN[@]}" rm -f -t 0 "$NAME" "$NAME-smoke" >/dev/null 2>&1 || true
  "${PODMAN[@]}" network rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- container log (last 20 lines) ---" >&2
  "${PODMAN[@]}" logs --tail 20 "$NAME" >&2 2>&1 || true
  exit 1
}
pass() { echo "ok    $*"; }

"${PODMAN[@]}" image exists "$IMAGE" || fail "no image $IMAGE: run make image first"
[[ -x "$HOST_SIGIL" ]] || fail "no static binary at $HOST_SIGIL: run make image first"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ISSUER="http://$NAME:8080"
chown "$UID_GID:$UID_GID" "$DATA"
chmod 700 "$DATA"

"${PODMAN[@]}" network create "$NAME" >/dev/null
"${PODMAN[@]}" run -d --name "$NAME" --network "$NAME" \
  --read-only --read-only-tmpfs=false \
  -v "$DATA:/data" -p "127.0.0.1:$PORT:8080" \
  "$IMAGE" dev --listen 0.0.0.0:8080 --issuer "$ISSUER" --data-dir /data >/dev/null

# 1. Ready within a minute (the machine may be busy; a healthy start takes well under a second).
ready=""
for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then ready=yes; break; fi
  [[ "$("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$NAME")" == true ]] || fail "the container exited"
  sleep 0.2
done
[[ -n "$ready" ]] || fail "/readyz did not answer 200 within 60 s"
pass "/readyz answers 200 on a read-only root filesystem (after $(( $(date +%s) - started )) s)"

[[ -s "$DATA/demo-client-secret" ]] || fail "sigil dev wrote no demo client secret to the /data volume"
[[ "$(stat -c %u:%g "$DATA/demo-client-secret")" == "$UID_GID:$UID_GID" ]] \
  || fail "files on the volume are owned by $(stat -c %u:%g "$DATA/demo-client-secret"), not $UID_GID"
SECRET="$(cat "$DATA/demo-client-secret")"

# 2. From the host.
answer="$(curl -sS -u "demo:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PORT/connect/token")"
[[ "$answer" == *'"access_token":"'* ]] || fail "no token from the host: $answer"
pass "the host gets a client-credentials token with curl"
"$HOST_SIGIL" smoke --issuer "$ISSUER" --url "http://127.0.0.1:$PORT" \
  --client-id demo --client-secret-file "$DATA/demo-client-secret" >/dev/null \
  || fail "sigil smoke from the host"
pass "sigil smoke from the host (--url http://127.0.0.1:$PORT)"

# 3. From a second container, by name, as a helm test Pod does; then with a wrong issuer.
"${PODMAN[@]}" run --rm --name "$NAME-smoke" --network "$NAME" --read-only --read-only-tmpfs=false \
  -v "$DATA/demo-client-secret:/secret/client-secret:ro" \
  "$IMAGE" smoke --issuer "$ISSUER" --client-id demo --client-secret-file /secret/client-secret \
  || fail "sigil smoke from a second container"
pass "sigil smoke from a second container, the issuer's host name resolved by DNS"
if "${PODMAN[@]}" run --rm --name "$NAME-smoke" --network "$NAME" --read-only \
  "$IMAGE" smoke --issuer "http://$NAME:8081" --url "$ISSUER" >/dev/null 2>&1; then
  fail "sigil smoke in a container passed with a wrong issuer"
fi
pass "sigil smoke in a container fails (non-zero exit) with a wrong issuer"
"${PODMAN[@]}" exec "$NAME" /sigil smoke --issuer "$ISSUER" --url http://localhost:8080 >/dev/null \
  || fail "sigil smoke inside the container via localhost"
pass "localhost resolves inside the container (/etc/hosts)"

# 4. Who the process is and what it may write, seen from the host.
pid="$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$NAME")"
[[ "$pid" -gt 0 ]] || fail "no process id for the container"
status="$(cat "/proc/$pid/status")"
for field in Uid Gid; do
  ids="$(awk -v f="$field:" '$1 == f {print $2, $3, $4, $5}' <<<"$status")"
  [[ "$ids" == "$UID_GID $UID_GID $UID_GID $UID_GID" ]] || fail "$field of the process: $ids"
done
[[ "$(awk '$1 == "CapEff:" {print $2}' <<<"$status")" == 0000000000000000 ]] \
  || fail "the process has effective capabilities: $(grep CapEff <<<"$status")"
pass "the process runs as uid/gid $UID_GID with no effective capabilities"
root_options="$(awk '$5 == "/" {print $6}' "/proc/$pid/mountinfo")"
[[ ",$root_options," == *",ro,"* ]] || fail "the root filesystem is mounted $root_options"
pass "its root filesystem is mounted read-only ($root_options)"

echo "image test passed for $IMAGE in $(( $(date +%s) - started )) s"
