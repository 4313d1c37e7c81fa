#!/usr/bin/env bash
# Model client limits: `pryx models test` (release build) against the scripted model misbehaving,
# for both wire formats, printing the peak RSS and wall time of the pryx process in each case:
#
#   baseline     a normal short answer
#   huge-error   HTTP 400 whose error body is BENCH_BYTES long -> classified from its first 64 KiB
#   huge-line    a 200 stream whose second line is BENCH_BYTES long -> LLM_PROTOCOL at the 8 MiB cap
#   stall        one token, then silence -> LLM_TIMEOUT after stream_idle_timeout_ms (2 s here)
#   plain-json   the answer as one application/json document, as if `stream: true` were ignored
#
# Goal: peak RSS < 64 MB in every case. BENCH_BYTES defaults to 300 MiB. Prints figures only;
# nothing is asserted.
# Usage: bench/llm-limits.sh [--debug]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
flag=$([ "$profile" = release ] && echo --release || true)
bytes="${BENCH_BYTES:-314572800}"

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"

work="$(mktemp -d)"
llm_pid=""
cleanup() {
  [ -n "$llm_pid" ] && kill "$llm_pid" 2>/dev/null && wait "$llm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo '[]' >"$work/script.json"
"$llm_bin" "$work/script.json" >"$work/llm.port" 2>/dev/null &
llm_pid=$!
for _ in $(seq 100); do [ -s "$work/llm.port" ] && break; sleep 0.05; done
llm_url="http://127.0.0.1:$(head -1 "$work/llm.port")"

export PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file
mkdir -p "$PRYX_HOME"
cat >"$PRYX_HOME/config.json" <<EOF
{"providers": {
   "oa": {"kind": "openai-compatible", "base_url": "$llm_url/v1", "catalog_id": "openai",
          "default_model": "gpt-4o", "stream_idle_timeout_ms": 2000},
   "an": {"kind": "anthropic", "base_url": "$llm_url/v1", "catalog_id": "anthropic",
          "default_model": "claude-sonnet-4-5", "stream_idle_timeout_ms": 2000}},
 "defaults": {"model": "oa/gpt-4o"}, "models": {"auto_refresh": false}}
EOF

# Peak RSS in KiB of a command: GNU time when installed, else polling VmHWM (the kernel's own
# high-water mark, so sampling only has to catch the process before it exits).
peak_rss() {
  if /usr/bin/time --version >/dev/null 2>&1; then
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/out" 2>"$work/err" || true
    tail -1 "$work/rss"
  else
    "$@" >"$work/out" 2>"$work/err" &
    local pid=$! hwm=0 v
    while kill -0 "$pid" 2>/dev/null; do
      v="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
      [ -n "$v" ] && hwm="$v"
      sleep 0.01
    done
    wait "$pid" || true
    echo "$hwm"
  fi
}

case_turn() {
  case "$1" in
    baseline) echo '{"text": "pong"}' ;;
    huge-error) echo "{\"failure\": {\"kind\": \"huge_error\", \"status\": 400, \"bytes\": $bytes, \"message\": \"scripted oversized error\"}}" ;;
    huge-line) echo "{\"failure\": {\"kind\": \"huge_line\", \"bytes\": $bytes}}" ;;
    stall) echo '{"text": "pong, then nothing", "failure": {"kind": "stall", "stall_ms": 600000}}' ;;
    plain-json) echo '{"text": "pong", "failure": {"kind": "plain_json"}}' ;;
  esac
}

echo "pryx models test ($profile build) against a scripted model; BENCH_BYTES=$bytes; goal: peak RSS < 64 MB"
printf '%-10s %-11s %10s %9s  %s\n' provider case "peak RSS" wall outcome
for provider in oa an; do
  for c in baseline huge-error huge-line stall plain-json; do
    echo "[$(case_turn "$c")]" | curl -fsS -X POST -H 'content-type: application/json' \
      --data-binary @- "$llm_url/_turns"
    start="$(date +%s%N)"
    kib="$(peak_rss "$pryx" models test "$provider")"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if grep -q '^reply:' "$work/out"; then
      outcome="ok: $(grep '^reply:' "$work/out" | head -1)"
    else
      outcome="$(grep -v '^warning:' "$work/err" | head -1)"
    fi
    mb="$(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }')"
    printf '%-10s %-11s %7s MB %6d ms  %s\n' "$provider" "$c" "$mb" "$ms" "${outcome:0:150}"
  done
done
