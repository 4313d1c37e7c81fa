#!/usr/bin/env bash
# Channels under load.
# 1. Signed webhooks: 50 concurrent requests to `POST /hooks/<id>` of a release `pryx serve`;
#    p50/p95 time to acknowledge (202, the turn started; goal p95 <= 5 ms, PRD < 100 ms) and
#    every request's turn completed (zero lost).
# 2. Telegram, against the Bot API emulator (debug build, through the test harness):
#    restarts alternating SIGTERM and kill -9 under a steady stream of messages (default 100):
#    zero lost, none answered twice beyond what Pryx marks as possibly duplicated, zero updates
#    handed out again after confirmation, zero 409s caused by Pryx; and the time from a message
#    to its first reply with a model that answers at once.
#
# Usage: bench/channels.sh [--debug] [N_WEBHOOKS] [N_RESTARTS]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; shift; fi
hooks="${1:-50}"
restarts="${2:-100}"
flag=$([ "$profile" = release ] && echo --release || true)

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
start_scripted_core
secret="$("$pryx" channels add bench --kind webhook --rate-limit 10000 | grep -E '^[0-9a-f]{64}$')"
echo "== webhooks: pryx $profile build, core on port $port, $hooks concurrent requests"

python3 - "$llm_url" "$port" "$token" "$hooks" "$secret" <<'PY'
import hashlib, hmac, http.client, json, statistics, sys, threading, time, urllib.parse

llm_url, port, token, n, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
llm = urllib.parse.urlparse(llm_url)
c = http.client.HTTPConnection(llm.hostname, llm.port)
c.request("POST", "/_turns", json.dumps([{"text": "done"}] * (n + 5)), {"content-type": "application/json"})
r = c.getresponse(); r.read()
assert r.status == 204, r.status

def post(i, out):
    body = json.dumps({"event": "bench", "n": i}).encode()
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    t = time.perf_counter()
    conn.request("POST", "/hooks/bench", body, {"x-pryx-timestamp": ts, "x-pryx-signature": "sha256=" + sig, "content-type": "application/json"})
    res = conn.getresponse()
    data = res.read()
    out[i] = ((time.perf_counter() - t) * 1000, res.status, json.loads(data) if data else {})

out = [None] * n
threads = [threading.Thread(target=post, args=(i, out)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
bad = [o for o in out if o[1] != 202]
if bad:
    sys.exit(f"{len(bad)} requests were not accepted: {bad[:3]}")
ms = sorted(o[0] for o in out)
pct = lambda p: ms[min(len(ms) - 1, max(0, round(p / 100 * len(ms)) - 1))]
auth = {"authorization": f"Bearer {token}"}
def get(path):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path, headers=auth)
    return json.loads(conn.getresponse().read())
deadline = time.time() + 60
done = set()
while time.time() < deadline and len(done) < n:
    listed = get("/api/v1/sessions?limit=100")
    rows = listed.get("sessions", listed if isinstance(listed, list) else [])
    for s in rows:
        if s.get("title") != "Webhook: bench" or s["id"] in done: continue
        v = get(f"/api/v1/sessions/{s['id']}")
        if any(m.get("role") == "assistant" for m in v.get("messages", [])):
            done.add(s["id"])
    time.sleep(0.2)
verdict = "PASS" if pct(95) <= 5 else "FAIL"
print(f"acknowledged {n}/{n}: p50 {pct(50):.2f} ms, p95 {pct(95):.2f} ms, max {ms[-1]:.2f} ms   goal p95 <= 5 ms   {verdict}")
print(f"turns completed: {len(done)}/{n} (lost: {n - len(done)})")
PY

echo "== telegram (debug build, Bot API emulator): $restarts restarts, then update -> first reply"
(cd testdeps && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
PRYX_TESTDEPS="$root/testdeps/node_modules" PRYX_SOAK_RESTARTS="$restarts" \
  cargo nextest run --no-fail-fast -p pryx --test e2e --run-ignored only --no-capture telegram:: 2>&1 \
  | grep -E '^(restarts|update ->)|FAIL|panicked'
