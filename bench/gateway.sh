#!/usr/bin/env bash
# Gateway benchmark: `pryx serve` (release build) with the scripted model answering instantly.
#
#   1. start -> /health/ready (median of 10 starts)
#   2. idle RSS 10 s after start
#   3. POST message -> turn.completed latency at 50 and 500 concurrent sessions (p50/p95/p99, errors)
#   4. fan-out latency of one event to 100 WebSocket subscribers
#   5. GET /api/v1/health throughput and latency with oha (if it can be installed)
#
# Goals: ready <= 50 ms, idle RSS <= 15 MB, p99 overhead <= 5 ms at 500 concurrent with zero
# errors, fan-out p99 <= 2 ms. Usage: bench/gateway.sh [--debug]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
flag=$([ "$profile" = release ] && echo --release || true)

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
cargo build --quiet $flag -p pryx-server --example gateway_load
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"
load="$target/$profile/examples/gateway_load"

if ! command -v oha >/dev/null 2>&1 && [ ! -x "$target/bench-tools/bin/oha" ]; then
  cargo install --quiet --root "$target/bench-tools" oha >/dev/null 2>&1 || echo "(oha not installed; skipping step 5)"
fi
oha_bin="$(command -v oha || echo "$target/bench-tools/bin/oha")"

work="$(mktemp -d)"
llm_pid=""
core_pid=""
cleanup() {
  [ -n "$core_pid" ] && kill -TERM "$core_pid" 2>/dev/null && wait "$core_pid" 2>/dev/null || true
  [ -n "$llm_pid" ] && kill "$llm_pid" 2>/dev/null && wait "$llm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo '[]' >"$work/script.json"
"$llm_bin" "$work/script.json" >"$work/llm.port" 2>/dev/null &
llm_pid=$!
for _ in $(seq 100); do [ -s "$work/llm.port" ] && break; sleep 0.05; done
llm_port="$(head -1 "$work/llm.port")"
llm_url="http://127.0.0.1:$llm_port"

export PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file
mkdir -p "$PRYX_HOME" "$work/ws"
cat >"$PRYX_HOME/config.json" <<EOF
{"providers": {"mock": {"kind": "openai-compatible", "base_url": "$llm_url/v1", "catalog_id": "openai"}},
 "defaults": {"model": "mock/gpt-4o"}, "models": {"auto_refresh": false}}
EOF
cd "$work/ws"

echo "== pryx serve ($profile build) =="
"$load" ready "$pryx"

"$pryx" serve --announce --log-to file >"$work/core.port" 2>/dev/null &
core_pid=$!
for _ in $(seq 200); do [ -s "$work/core.port" ] && break; sleep 0.05; done
port="$(head -1 "$work/core.port")"
token="$(cat "$PRYX_HOME/token")"
sleep 10
echo "idle RSS after 10 s: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$core_pid/status)"

"$load" turns "$port" "$token" "$llm_url" 50 20
"$load" turns "$port" "$token" "$llm_url" 500 4
"$load" fanout "$port" "$token" "$llm_url" 100
echo "RSS after load: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$core_pid/status)"

# The same turn path without the gateway: the scripted model alone, for the overhead figure.
python3 - "$llm_url" <<'EOF'
import json, sys, time, urllib.request
url = sys.argv[1]
n = 200
urllib.request.urlopen(urllib.request.Request(url + "/_turns", data=json.dumps([{"text": "ok"}] * n).encode(),
                                              headers={"content-type": "application/json"})).read()
body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
samples = []
for _ in range(n):
    t = time.perf_counter()
    urllib.request.urlopen(urllib.request.Request(url + "/v1/chat/completions", data=body,
                                                  headers={"content-type": "application/json"})).read()
    samples.append((time.perf_counter() - t) * 1000)
samples.sort()
print(f"model alone (sequential, python client): p50 {samples[n//2]:.2f} ms, p99 {samples[int(n*0.99)-1]:.2f} ms")
EOF

if [ -x "$oha_bin" ]; then
  echo "== GET /api/v1/health with oha (50 connections, 5 s) =="
  "$oha_bin" -z 5s -c 50 --no-tui -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/health" \
    | grep -E "Requests/sec|Slowest|Fastest|Average|99.00%|50.00%|Status code|\[200\]" || true
fi
