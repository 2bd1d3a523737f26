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
# 5. The production roles, each in its own read-only container: `sigil keys generate` into a
#    file key source, a `sigil store` node, and `sigil serve` reaching that node by its name
#    and reading the keys from a read-only mount; `sigil smoke` gets a token from it.
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
DATA="$(mktemp -d -t sigil-image-test.XXXXXX)"
started=$(date +%s)

cleanup() {
  "${PODMAN[@]}" rm -f -t 0 "$NAME" "$NAME-smoke" "$NAME-store" "$NAME-serve" >/dev/null 2>&1 || true
  "${PODMAN[@]}" network rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOGS_OF="$NAME"
fail() {
  echo "FAIL: $*" >&2
  echo "--- log of $LOGS_OF (last 20 lines) ---" >&2
  "${PODMAN[@]}" logs --tail 20 "$LOGS_OF" >&2 2>&1 || true
  exit 1
}
pass() { echo "ok    $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to a minute for http://127.0.0.1:$1/readyz to answer 200 while container $2 runs
# (the machine may be busy; a healthy start takes well under a second).
wait_ready() {
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/readyz" 2>/dev/null; do
    [[ "$("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$2")" == true ]] || fail "$2 exited"
    ((SECONDS < deadline)) || fail "/readyz of $2 did not answer 200 within 60 s"
    sleep 0.2
  done
}

# A directory on the host that the image's user may write, mounted as a volume.
volume_dir() {
  mkdir -p "$1" && chown "$UID_GID:$UID_GID" "$1" && chmod 700 "$1"
}

"${PODMAN[@]}" image exists "$IMAGE" || fail "no image $IMAGE: run make image first"
[[ -x "$HOST_SIGIL" ]] || fail "no static binary at $HOST_SIGIL: run make image first"

PORT="$(free_port)"
ISSUER="http://$NAME:8080"
volume_dir "$DATA/dev"

"${PODMAN[@]}" network create "$NAME" >/dev/null
"${PODMAN[@]}" run -d --name "$NAME" --network "$NAME" \
  --read-only --read-only-tmpfs=false \
  -v "$DATA/dev:/data" -p "127.0.0.1:$PORT:8080" \
  "$IMAGE" dev --listen 0.0.0.0:8080 --issuer "$ISSUER" --data-dir /data >/dev/null

# 1. Ready on a read-only root filesystem, writing only to its volume.
wait_ready "$PORT" "$NAME"
pass "sigil dev: /readyz answers 200 on a read-only root filesystem (after $(( $(date +%s) - started )) s)"

[[ -s "$DATA/dev/demo-client-secret" ]] || fail "sigil dev wrote no demo client secret to the /data volume"
[[ "$(stat -c %u:%g "$DATA/dev/demo-client-secret")" == "$UID_GID:$UID_GID" ]] \
  || fail "files on the volume are owned by $(stat -c %u:%g "$DATA/dev/demo-client-secret"), not $UID_GID"
SECRET="$(cat "$DATA/dev/demo-client-secret")"

# 2. From the host.
answer="$(curl -sS -u "demo:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PORT/connect/token")"
[[ "$answer" == *'"access_token":"'* ]] || fail "no token from the host: $answer"
pass "the host gets a client-credentials token with curl"
"$HOST_SIGIL" smoke --issuer "$ISSUER" --url "http://127.0.0.1:$PORT" \
  --client-id demo --client-secret-file "$DATA/dev/demo-client-secret" >/dev/null \
  || fail "sigil smoke from the host"
pass "sigil smoke from the host (--url http://127.0.0.1:$PORT)"

# 3. From a second container, by name, as a helm test Pod does; then with a wrong issuer.
"${PODMAN[@]}" run --rm --name "$NAME-smoke" --network "$NAME" --read-only --read-only-tmpfs=false \
  -v "$DATA/dev/demo-client-secret:/secret/client-secret:ro" \
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

# 5. The production roles. Keys first: `sigil keys` writes the file source's directory (in a
#    cluster, a Secret through the kubernetes source); the token pod then only reads it.
SMOKE_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
SMOKE_HASH="$(python3 -c 'import base64, hashlib, sys; print("sha256:" + base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).decode().rstrip("="))' "$SMOKE_SECRET")"
SERVE_ISSUER="http://$NAME-serve:8080"
mkdir -p "$DATA/config"
cat > "$DATA/config/sigil.yaml" <<YAML
server:
  issuer: $SERVE_ISSUER
  listen: 0.0.0.0:8080
  ops_listen: 0.0.0.0:9090
signing:
  algorithm: ES256
  source: { kind: file, path: /keys }
api_scopes:
  - name: health.read
api_resources:
  - resource: https://health.test
    scopes: [health.read]
clients:
  - client_id: smoke
    secrets: ["$SMOKE_HASH"]
    grant_types: [client_credentials]
    scopes: [health.read]
  # Its tokens are written to the store: a token proves serve reaches the store by name.
  - client_id: smoke-reference
    secrets: ["$SMOKE_HASH"]
    grant_types: [client_credentials]
    scopes: [health.read]
    access_token_format: reference
YAML
printf '%s\n' "$SMOKE_SECRET" > "$DATA/config/smoke-secret"
chmod 644 "$DATA/config/sigil.yaml" "$DATA/config/smoke-secret"
volume_dir "$DATA/keys"
volume_dir "$DATA/store"

"${PODMAN[@]}" run --rm --read-only --read-only-tmpfs=false \
  -v "$DATA/config:/config:ro" -v "$DATA/keys:/keys" \
  "$IMAGE" keys generate --config /config/sigil.yaml >/dev/null || fail "sigil keys generate"
ls "$DATA/keys"/*.pem >/dev/null 2>&1 || fail "sigil keys generate wrote no key"
pass "sigil keys generate writes a file key source from a read-only container"

STORE_PORT="$(free_port)"
LOGS_OF="$NAME-store"
"${PODMAN[@]}" run -d --name "$NAME-store" --network "$NAME" --read-only --read-only-tmpfs=false \
  -v "$DATA/store:/data" -p "127.0.0.1:$STORE_PORT:7001" \
  "$IMAGE" store --id 1 --peers "1=http://$NAME-store:7001" --data-dir /data >/dev/null
wait_ready "$STORE_PORT" "$NAME-store"
pass "sigil store: a one-node cluster is ready on a read-only root filesystem"

SERVE_PORT="$(free_port)"
OPS_PORT="$(free_port)"
LOGS_OF="$NAME-serve"
"${PODMAN[@]}" run -d --name "$NAME-serve" --network "$NAME" --read-only --read-only-tmpfs=false \
  -v "$DATA/config:/config:ro" -v "$DATA/keys:/keys:ro" \
  -p "127.0.0.1:$SERVE_PORT:8080" -p "127.0.0.1:$OPS_PORT:9090" \
  "$IMAGE" serve --config /config/sigil.yaml --store "http://$NAME-store:7001" >/dev/null
wait_ready "$OPS_PORT" "$NAME-serve"
answer="$(curl -sS -u "smoke-reference:$SMOKE_SECRET" -d grant_type=client_credentials \
  "http://127.0.0.1:$SERVE_PORT/connect/token")"
[[ "$answer" == *'"access_token":"'* ]] || fail "no reference token (kept in the store): $answer"
pass "sigil serve reaches the store by its name: a reference token is issued"
"${PODMAN[@]}" run --rm --network "$NAME" --read-only --read-only-tmpfs=false \
  -v "$DATA/config/smoke-secret:/secret/client-secret:ro" \
  "$IMAGE" smoke --issuer "$SERVE_ISSUER" --client-id smoke --client-secret-file /secret/client-secret \
  | grep -q '^ok  token' || fail "sigil smoke against sigil serve"
pass "sigil serve with read-only keys and the store by name issues a token that sigil smoke verifies"

echo "image test passed for $IMAGE in $(( $(date +%s) - started )) s"
