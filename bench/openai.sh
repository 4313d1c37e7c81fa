#!/usr/bin/env bash
# Overhead of the OpenAI-compatible endpoint: the same one-line answer asked of the scripted model
# directly (its own /v1/chat/completions) and through `pryx serve`'s /v1/chat/completions (a new
# session, the turn stored, the agent loop, the answer read back). Prints p50/p95 of both and the
# p50 overhead with PASS or FAIL (goal <= 2 ms).
#
# Usage: bench/openai.sh [--debug] [N]   (N requests each way, default 200)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; shift; fi
runs="${1:-200}"
flag=$([ "$profile" = release ] && echo --release || true)

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
start_scripted_core
echo "pryx $profile build, core on port $port, $runs requests each way"

python3 - "$llm_url" "$port" "$token" "$runs" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse

llm_url, port, token, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
llm = urllib.parse.urlparse(llm_url)

def post(conn, path, body, headers):
    conn.request("POST", path, json.dumps(body), headers)
    res = conn.getresponse()
    data = res.read()
    if res.status != 200:
        sys.exit(f"{path} answered {res.status}: {data[:300]!r}")
    return data

def queue(n):
    c = http.client.HTTPConnection(llm.hostname, llm.port)
    c.request("POST", "/_turns", json.dumps([{"text": "pong"}] * n), {"content-type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 204:
        sys.exit(f"cannot queue turns: {r.status}")

def timed(host, port_, path, body, headers, n):
    conn = http.client.HTTPConnection(host, port_)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        post(conn, path, body, headers)
        out.append((time.perf_counter() - t) * 1000)
    return out

question = [{"role": "user", "content": "ping"}]
json_h = {"content-type": "application/json"}
warm = 10
queue(2 * (runs + warm))
direct_body = {"model": "gpt-4o", "messages": question, "stream": True}
timed(llm.hostname, llm.port, "/v1/chat/completions", direct_body, json_h, warm)
direct = timed(llm.hostname, llm.port, "/v1/chat/completions", direct_body, json_h, runs)
pryx_h = dict(json_h, authorization=f"Bearer {token}")
pryx_body = {"model": "pryx:main", "messages": question}
timed("127.0.0.1", port, "/v1/chat/completions", pryx_body, pryx_h, warm)
via = timed("127.0.0.1", port, "/v1/chat/completions", pryx_body, pryx_h, runs)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]

for name, xs in (("scripted model directly", direct), ("through pryx /v1/chat/completions", via)):
    print(f"{name:<40} p50 {pct(xs, 50):7.2f} ms   p95 {pct(xs, 95):7.2f} ms")
overhead = pct(via, 50) - pct(direct, 50)
verdict = "PASS" if overhead <= 2 else "FAIL"
print(f"{'overhead of /v1/chat/completions (p50)':<40} {overhead:7.2f} ms   goal <= 2 ms   {verdict}")
PY
