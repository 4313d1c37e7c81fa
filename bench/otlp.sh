#!/usr/bin/env bash
# OTLP export: what it costs a turn, and proof that off means no connection.
# 1. Off (the default), the release core runs under `strace -f -e trace=connect` for N turns
#    (default 200) with a collector listening: every connect(2) it made is listed; none may go
#    to the collector's port.
# 2. Turn latency with export off and on (to a local opentelemetry-proto receiver, standard tier,
#    everything sampled), in alternating blocks of 50 turns on one core (PUT /telemetry switches
#    it), so drift hits both alike. Prints p50/p90 per mode and the p50 added by export
#    (goal: <= 0.2 ms).
#
# Usage: bench/otlp.sh [N_TURNS]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
n="${1:-200}"
command -v strace >/dev/null 2>&1 || { echo "strace is needed: apt-get install strace" >&2; exit 1; }
venv="$target/otlp-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import opentelemetry.proto' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'opentelemetry-proto>=1.30,<2'
fi

cargo build --quiet --release -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
pryx="$target/release/pryx"
llm_bin="$target/release/pryx-scripted-llm"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
"$venv/bin/python" "$root/tests/otlp/receiver.py" "$work/received.jsonl" >"$work/rx.port" &
rx_pid=$!
trap 'kill "$rx_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$work/rx.port" ] && break; sleep 0.05; done
rx_port="$(head -1 "$work/rx.port")"

turns() { # PORT TOKEN N MODE...
  python3 - "$llm_url" "$@" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
llm_url, port, token, n, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:]
llm = urllib.parse.urlparse(llm_url)
c = http.client.HTTPConnection(llm.hostname, llm.port)
c.request("POST", "/_turns", json.dumps([{"text": "ok"}] * (n * len(modes) + 10)), {"content-type": "application/json"})
c.getresponse().read()
conn = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None, sse=False):
    h = {"authorization": "Bearer " + token, "content-type": "application/json"}
    if sse:
        h["accept"] = "text/event-stream"
    conn.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, h)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return data
times = {m: [] for m in modes}
block = 50
for start in range(0, n, block):
    for mode in modes:
        if mode != "-":
            call("PUT", "/telemetry", {"enabled": mode == "on"})
        # A fresh session per block: every block's turns carry the same history.
        sid = json.loads(call("POST", "/sessions", {}))["id"]
        for _ in range(min(block, n - start)):
            t = time.perf_counter()
            body = call("POST", f"/sessions/{sid}/messages?stream=sse", {"content": "hi"}, sse=True)
            times[mode].append((time.perf_counter() - t) * 1000)
            assert b"turn.completed" in body, body[-300:]
for mode, xs in times.items():
    xs.sort()
    q = statistics.quantiles(xs, n=10)
    label = {"-": "off (default)", "off": "export off", "on": "export on"}[mode]
    print(f"  {label:<14} {len(xs)} turns: p50 {statistics.median(xs):.3f} ms, p90 {q[8]:.3f} ms")
if "on" in times and "off" in times:
    d = statistics.median(times["on"]) - statistics.median(times["off"])
    print(f"  added by export at p50: {d:+.3f} ms (goal <= 0.2 ms)")
PY
}

echo "== otlp: 1. off by default, core under strace; $n turns; collector on port $rx_port"
extra_config="\"telemetry\": {\"endpoint\": \"http://127.0.0.1:$rx_port\"}"
core_wrap="strace -f -qq -e trace=connect -o $work/connect.trace"
start_scripted_core
turns "$port" "$token" "$n" -
# The core itself (strace's child) stops; strace ends with it.
kill -TERM "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$PRYX_HOME/metadata.json")"
wait "$core_pid" 2>/dev/null || true
core_pid=""
ports="$(grep -o 'sin_port=htons([0-9]*)' "$work/connect.trace" | sort | uniq -c || true)"
echo "  connect(2) calls of the core, by port: ${ports:-none}"
if grep -q "sin_port=htons($rx_port)" "$work/connect.trace"; then
  echo "  FAIL: the core connected to the collector with export off" >&2
  exit 1
fi
echo "  to the collector ($rx_port): 0; received: $(wc -l <"$work/received.jsonl" 2>/dev/null || echo 0) requests"

echo "== otlp: 2. turn latency, export off vs on (standard tier, alternating blocks of 50)"
rm -rf "$PRYX_HOME"
core_wrap=""
extra_config="\"telemetry\": {\"endpoint\": \"http://127.0.0.1:$rx_port\", \"tier\": \"standard\"}"
start_scripted_core
turns "$port" "$token" "$n" off on
echo "  exported: $(grep -c '/v1/traces' "$work/received.jsonl" || echo 0) trace requests"
