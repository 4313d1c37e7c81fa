"""`GET /metrics` of a running `pryx serve`, read by the Prometheus text parser of the
`prometheus-client` package (the format's reference implementation in Python).

Checks: without the token the answer is 401; with it every family parses, has a known type,
and carries only the expected label names; label values are names and outcomes, never
content (short, one line); the counters saw the turns the OpenAI SDK checks ran before.
Environment: PRYX_METRICS_URL, PRYX_TOKEN.
"""

import os
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

URL = os.environ["PRYX_METRICS_URL"]
TOKEN = os.environ["PRYX_TOKEN"]

LABELS = {
    "pryx_build_info": {"version"},
    "pryx_sessions": set(),
    "pryx_turns": {"status"},
    "pryx_turns_running": set(),
    "pryx_model_calls": {"model", "status"},
    "pryx_tokens": {"model", "direction"},
    "pryx_cost_usd": {"model"},
    "pryx_model_call_duration_seconds": {"model", "le"},
    "pryx_tool_calls": {"tool", "status"},
    "pryx_approvals": {"decision"},
    "pryx_task_runs": {"status"},
    "pryx_channel_replies": {"channel", "state"},
    "pryx_errors": {"code"},
}

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


try:
    urllib.request.urlopen(URL, timeout=10)
    check(False, "without the token /metrics is refused")
except urllib.error.HTTPError as e:
    check(e.code == 401, f"without the token /metrics is refused (got {e.code})")

req = urllib.request.Request(URL, headers={"Authorization": f"Bearer {TOKEN}"})
with urllib.request.urlopen(req, timeout=10) as resp:
    kind = resp.headers.get("Content-Type", "")
    text = resp.read().decode("utf-8")
check(kind.startswith("text/plain; version=0.0.4"), f"the content type is the text format ({kind})")

families = list(text_string_to_metric_families(text))
names = {f.name for f in families}
check(set(LABELS) <= names, f"every family is there (missing: {sorted(set(LABELS) - names)})")
for f in families:
    check(f.name in LABELS, f"{f.name} is a known family")
    check(f.type in ("counter", "gauge", "histogram"), f"{f.name} is a {f.type}")
    for s in f.samples:
        keys = set(s.labels)
        check(keys <= LABELS.get(f.name, set()), f"{s.name} carries only its labels ({sorted(keys)})")
        for v in s.labels.values():
            check(len(v) <= 120 and "\n" not in v, f"{s.name}: label value {v!r} is a name, not content")

by_name = {f.name: f for f in families}
turns = sum(s.value for s in by_name["pryx_turns"].samples)
check(turns >= 3, f"the SDK checks' turns are counted ({turns})")
tokens = sum(s.value for s in by_name["pryx_tokens"].samples)
check(tokens > 0, f"their tokens are counted ({tokens})")
hist = [s for s in by_name["pryx_model_call_duration_seconds"].samples if s.name.endswith("_count")]
check(bool(hist) and all(s.value > 0 for s in hist), "model-call latency has observations")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all /metrics checks passed")
