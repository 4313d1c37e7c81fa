#!/usr/bin/env bash
# Footprint bench: the size and memory goals, each printed with PASS or FAIL.
#
#   1. the stripped release binary (goal <= 20 MB)
#   2. idle RSS of `pryx serve` 10 s after start, on a fresh data dir (goal <= 15 MB)
#   3. RSS after 1,000 turns with the scripted model answering at once (goal <= 20 MB)
#   and, for reading them, the split of idle RSS into file-backed and anonymous pages
#   (/proc/PID/smaps_rollup).
#
# A cold build's time is not measured here (it needs an empty target dir: run
# `CARGO_TARGET_DIR=$(mktemp -d) cargo build --release -p pryx` under `time`).
# Usage: bench/footprint.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --quiet --release -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
cargo build --quiet --release -p pryx-server --example gateway_load
pryx="$target/release/pryx"
llm_bin="$target/release/pryx-scripted-llm"
load="$target/release/examples/gateway_load"

work="$(mktemp -d)"
llm_pid=""
core_pid=""
cleanup() {
  [ -n "$core_pid" ] && kill -TERM "$core_pid" 2>/dev/null && wait "$core_pid" 2>/dev/null || true
  [ -n "$llm_pid" ] && kill "$llm_pid" 2>/dev/null && wait "$llm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

verdict() { # name value_mb goal_mb
  if awk -v v="$2" -v g="$3" 'BEGIN { exit !(v <= g) }'; then r=PASS; else r=FAIL; fi
  printf '%-40s %8.1f MB   goal <= %s MB   %s\n' "$1" "$2" "$3" "$r"
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

cp "$pryx" "$work/pryx-stripped"
strip "$work/pryx-stripped"
size_mb="$(awk -v b="$(stat -c %s "$work/pryx-stripped")" 'BEGIN {printf "%.1f", b/1048576}')"
verdict "stripped release binary" "$size_mb" 20

echo '[]' >"$work/script.json"
"$llm_bin" "$work/script.json" >"$work/llm.port" 2>/dev/null &
llm_pid=$!
for _ in $(seq 100); do [ -s "$work/llm.port" ] && break; sleep 0.05; done
llm_url="http://127.0.0.1:$(head -1 "$work/llm.port")"

export PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file
mkdir -p "$PRYX_HOME" "$work/ws"
cat >"$PRYX_HOME/config.json" <<EOF
{"providers": {"mock": {"kind": "openai-compatible", "base_url": "$llm_url/v1", "catalog_id": "openai"}},
 "defaults": {"model": "mock/gpt-4o"}, "models": {"auto_refresh": false}}
EOF
cd "$work/ws"
"$pryx" serve --announce --log-to file >"$work/core.port" 2>/dev/null &
core_pid=$!
for _ in $(seq 200); do [ -s "$work/core.port" ] && break; sleep 0.05; done
port="$(head -1 "$work/core.port")"
token="$(cat "$PRYX_HOME/token")"
sleep 10
verdict "idle RSS of pryx serve after 10 s" "$(rss_mb "$core_pid")" 15
awk '/^Rss|^Anonymous|^Pss_File/ {printf "  %-14s %7.1f MB\n", $1, $2/1024}' "/proc/$core_pid/smaps_rollup"

"$load" turns "$port" "$token" "$llm_url" 10 100 >/dev/null
verdict "RSS after 1,000 turns" "$(rss_mb "$core_pid")" 20
awk '/^Rss|^Anonymous|^Pss_File/ {printf "  %-14s %7.1f MB\n", $1, $2/1024}' "/proc/$core_pid/smaps_rollup"
