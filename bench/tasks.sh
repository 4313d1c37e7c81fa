#!/usr/bin/env bash
# The scheduler with many tasks, on a release `pryx serve` with a model that answers at once.
# 1. Memory: RSS before and after adding N tasks (default 10,000; cron and interval tasks due
#    far in the future) through the API.
# 2. CPU while idle: the process's CPU time over 60 s with those N tasks and nothing due
#    (goal: no measurable CPU between due times).
# 3. Firing precision: M tasks (default 200) every 10 s for ~45 s; each run's start minus its
#    slot (goal: p99 <= 50 ms late).
#
# Usage: bench/tasks.sh [N_TASKS] [M_FIRING]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
n="${1:-10000}"
m="${2:-200}"

cargo build --quiet --release -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
pryx="$target/release/pryx"
llm_bin="$target/release/pryx-scripted-llm"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
start_scripted_core
echo "== tasks: pryx release build, core on port $port; $n idle tasks, $m firing every 10 s"

python3 - "$llm_url" "$port" "$token" "$n" "$m" "$core_pid" <<'PY'
import http.client, json, os, statistics, sys, time, urllib.parse
from datetime import datetime

llm_url, port, token, n, m, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
hz = os.sysconf("SC_CLK_TCK")

def rss_kb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def cpu_ticks():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])

conn = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None):
    conn.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None,
                 {"authorization": "Bearer " + token, "content-type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None

llm = urllib.parse.urlparse(llm_url)
c = http.client.HTTPConnection(llm.hostname, llm.port)
c.request("POST", "/_turns", json.dumps([{"text": "ok"}] * (m * 8)), {"content-type": "application/json"})
r = c.getresponse(); r.read()

time.sleep(1)
before = rss_kb()
t0 = time.perf_counter()
for i in range(n):
    trigger = {"kind": "cron", "expr": f"{i % 60} {i % 24} 1 1 *", "tz": "UTC"} if i % 2 else {"kind": "every", "seconds": 86400 * 30 + i}
    call("POST", "/tasks", {"name": f"idle-{i}", "prompt": "check", "trigger": trigger, "notify": "never"})
added = time.perf_counter() - t0
time.sleep(2)
after = rss_kb()
print(f"memory: RSS {before/1024:.1f} MB with no tasks, {after/1024:.1f} MB with {n} "
      f"(+{(after-before)/1024:.1f} MB); adding them took {added:.1f} s ({added/n*1000:.2f} ms each)")

t = time.perf_counter(); c0 = cpu_ticks()
time.sleep(60)
used = (cpu_ticks() - c0) / hz
print(f"idle: {used:.2f} s of CPU in {time.perf_counter()-t:.0f} s with {n} tasks and none due "
      f"({used/60*100:.2f}% of one core)")

for i in range(m):
    call("POST", "/tasks", {"name": f"fire-{i}", "prompt": "tick", "trigger": {"kind": "every", "seconds": 10}, "notify": "never"})
time.sleep(45)
late = []
for i in range(m):
    for run in call("GET", f"/tasks/fire-{i}/runs?limit=100")["runs"]:
        if run.get("slot") and run["reason"] == "schedule":
            slot = datetime.fromisoformat(run["slot"].replace("Z", "+00:00"))
            started = datetime.fromisoformat(run["started_at"].replace("Z", "+00:00"))
            late.append((started - slot).total_seconds() * 1000)
late.sort()
if not late:
    raise SystemExit("no runs fired")
q = lambda p: late[min(len(late) - 1, int(len(late) * p))]
print(f"firing: {len(late)} runs of {m} tasks; start after slot p50 {q(0.5):.1f} ms, "
      f"p99 {q(0.99):.1f} ms, max {late[-1]:.1f} ms (goal p99 <= 50 ms)")
print(f"memory after firing: RSS {rss_kb()/1024:.1f} MB")
PY
