#!/usr/bin/env bash
# Release figures: the release binary's size, the archive's size (gzip -9) and packing time,
# and the time `install.sh` takes from a local HTTP server on loopback (manifest, signature,
# download, checks, install; with and without `pryx doctor`), with minisign and with OpenSSL
# checking the signature. Signs with the test key. Goal (FR7.1): under 60 s; ours: under 3 s.
#
# Usage: bench/release.sh [BINARY]   (default: a fresh `cargo build --release`)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
binary="${1:-}"
if [ -z "$binary" ]; then
  cargo build --release --locked -p pryx >/dev/null 2>&1
  binary="${CARGO_TARGET_DIR:-$root/target}/release/pryx"
fi
work="$(mktemp -d)"
server_pid=""
trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

ms() { date +%s%3N; }
printf 'binary            %s bytes (%s MB)\n' "$(wc -c <"$binary")" "$(( $(wc -c <"$binary") / 1048576 ))"
t0=$(ms)
scripts/release.sh --binary "$binary" --version 0.1.0 --out "$work/rel" \
  --key tests/fixtures/release/test.key --target x86_64-unknown-linux-gnu >/dev/null
t1=$(ms)
archive="$(ls "$work"/rel/v0.1.0/*.tar.gz)"
printf 'archive (gzip -9) %s bytes (%s MB), packed and signed in %s ms\n' \
  "$(wc -c <"$archive")" "$(( $(wc -c <"$archive") / 1048576 ))" "$((t1 - t0))"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 -m http.server -b 127.0.0.1 -d "$work/rel" "$port" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/channels/stable.json" 2>/dev/null && break
  sleep 0.05
done
key="$(tail -1 tests/fixtures/release/test.pub)"
for verifier in minisign openssl; do
  for doctor in --no-doctor ""; do
    rm -rf "${work:?}/prefix" "${work:?}/home"
    t0=$(ms)
    # shellcheck disable=SC2086
    PRYX_INSTALL_URL="http://127.0.0.1:$port" PRYX_INSTALL_PUBLIC_KEY="$key" \
      PRYX_INSTALL_VERIFIER="$verifier" PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file \
      sh install.sh --prefix "$work/prefix" $doctor >/dev/null 2>&1
    t1=$(ms)
    printf 'install.sh (%-8s %-11s) %s ms\n' "$verifier," "${doctor:-with doctor}" "$((t1 - t0))"
  done
done
