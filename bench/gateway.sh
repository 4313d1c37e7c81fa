#!/usr/bin/env bash
# Gateway benchmark: `pryx serve` (release build) with the scripted model answering instantly.
#
#   1. start -> /health/ready (median of 10 starts)
#   2. idle RSS 10 s after start
#   3. POST message -> turn.completed latency at 50 and 500 concurrent sessions (p50/p95/p99, errors)
#   4. fan-out latency of one event to 100 WebSocket subscribers
#   5. GET /api/v1/sessions throughput and latency with wrk (Debian package)
#
# Goals: ready <= 50 ms, idle RSS <= 15 MB, p99 overhead <= 5 ms at 500 concurrent with zero
# errors, fan-out p99 <= 2 ms. With BENCH_AGENTS=N (default 10) the config holds N agent
# profiles, each with its own workspace, and the load spreads its sessions over them.
# Usage: bench/gateway.sh [--debug]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
flag=$([ "$profile" = release ] && echo --release || true)

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
cargo build --quiet $flag -p pryx-server --example gateway_load
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"
load="$target/$profile/examples/gateway_load"

if ! command -v wrk >/dev/null 2>&1; then
  { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; } >/dev/null 2>&1 \
    || echo "(wrk could not be installed; skipping step 5)"
fi

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
n_agents="${BENCH_AGENTS:-10}"
agents_json=""
GATEWAY_AGENTS=""
for i in $(seq 1 "$n_agents"); do
  mkdir -p "$work/ws$i"
  agents_json="$agents_json${agents_json:+,} \"a$i\": {\"workspace\": \"$work/ws$i\"}"
  GATEWAY_AGENTS="$GATEWAY_AGENTS${GATEWAY_AGENTS:+,}a$i"
done
export GATEWAY_AGENTS
cat >"$PRYX_HOME/config.json" <<EOF
{"providers": {"mock": {"kind": "openai-compatible", "base_url": "$llm_url/v1", "catalog_id": "openai"}},
 "defaults": {"model": "mock/gpt-4o"}, "models": {"auto_refresh": false},
 "agents": {$agents_json}}
EOF
echo "$n_agents agent profiles configured; sessions spread over them"
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

"$load" turns "$port" "$token" "$llm_url" 1 200
"$load" turns "$port" "$token" "$llm_url" 50 20
"$load" turns "$port" "$token" "$llm_url" 500 4
# The core's own share of each turn: the turn span minus its model call (read from the store).
python3 - "$PRYX_HOME/pryx.db" <<'EOF'
import sqlite3, sys
from datetime import datetime
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
ts = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000
turns = {r[0]: ts(r[2]) - ts(r[1]) for r in db.execute(
    "SELECT id, started_at, ended_at FROM spans WHERE kind = 'turn' AND ended_at IS NOT NULL")}
model = {}
for parent, s, e in db.execute(
        "SELECT parent_id, started_at, ended_at FROM spans WHERE kind = 'model_call' AND ended_at IS NOT NULL"):
    model[parent] = model.get(parent, 0) + ts(e) - ts(s)
over = sorted(d - model.get(t, 0) for t, d in turns.items())
mdl = sorted(model.values())
q = lambda v, p: v[min(len(v) - 1, int(round((len(v) - 1) * p)))]
print(f"core overhead inside a turn (turn span - model call), all {len(over)} turns: "
      f"p50 {q(over, .5):.2f} ms, p95 {q(over, .95):.2f} ms, p99 {q(over, .99):.2f} ms")
print(f"model call as the core saw it: p50 {q(mdl, .5):.2f} ms, p99 {q(mdl, .99):.2f} ms")
EOF
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

if command -v wrk >/dev/null 2>&1; then
  echo "== GET /api/v1/sessions?limit=20 with wrk (2 threads, 50 connections, 5 s) =="
  wrk -t2 -c50 -d5s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/sessions?limit=20" \
    | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors" || true
fi
