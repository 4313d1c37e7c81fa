#!/usr/bin/env bash
# Measures how fast `pryx` (the TUI) shows its first frame and its first connected frame, in tmux,
# in two cases: a core already runs (attach) and none runs (the TUI starts the sidecar). Each run
# uses the hidden `--exit-when-connected --timings FILE` flags; "launch" figures count from before
# tmux starts the process, "in-process" figures from main(). Prints median / min / max.
# Usage: bench/tui-startup.sh [--no-build] [RUNS]   (--no-build measures target/release/pryx as is;
#        BIN=path overrides the binary)
set -euo pipefail
cd "$(dirname "$0")/.."

NO_BUILD=0
if [ "${1:-}" = "--no-build" ]; then NO_BUILD=1; shift; fi
RUNS="${1:-20}"
command -v tmux >/dev/null 2>&1 || { echo "tmux is needed (scripts/test.sh installs it)" >&2; exit 1; }

if [ -z "${BIN:-}" ]; then
  if [ "$NO_BUILD" = 0 ]; then
    log="$(mktemp)"
    if ! cargo build --release --locked -p pryx >"$log" 2>&1; then
      echo "release build failed:" >&2; tail -40 "$log" >&2; exit 1
    fi
    rm -f "$log"
  fi
  BIN="$PWD/target/release/pryx"
fi

WORK="$(mktemp -d)"
export PRYX_HOME="$WORK/home" PRYX_SECRET_BACKEND=file
mkdir -p "$PRYX_HOME" "$WORK/ws"
# A provider that is never called: start-up does not talk to the model.
cat >"$PRYX_HOME/config.json" <<'JSON'
{"providers": {"bench": {"kind": "openai-compatible", "base_url": "http://127.0.0.1:9", "catalog_id": "openai"}},
 "defaults": {"model": "bench/gpt-4o"}}
JSON
SOCK="$WORK/tmux.sock"
SERVE_PID=""
cleanup() {
  tmux -S "$SOCK" kill-server 2>/dev/null || true
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN" doctor >/dev/null 2>&1 || true   # creates the data dir and database

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# run_case NAME: RUNS launches; appends "launch_first in_first in_connected" per run to $WORK/NAME.
run_case() {
  local name="$1" out="$WORK/$1" t="$WORK/timings"
  : >"$out"
  for _ in $(seq "$RUNS"); do
    rm -f "$t"
    local start; start="$(now_ms)"
    tmux -S "$SOCK" -f /dev/null new-session -d -x 120 -y 40 -s bench \
      "cd '$WORK/ws' && exec '$BIN' --exit-when-connected --timings '$t'"
    local deadline=$(( $(now_ms) + 20000 ))
    while tmux -S "$SOCK" has-session -t bench 2>/dev/null; do
      [ "$(now_ms)" -lt "$deadline" ] || { echo "the TUI did not connect within 20 s" >&2; exit 1; }
      sleep 0.02
    done
    [ -s "$t" ] || { echo "no timings written" >&2; exit 1; }
    python3 - "$t" "$start" >>"$out" <<'PY'
import sys
f = dict(kv.split("=") for kv in open(sys.argv[1]).read().split())
start = int(sys.argv[2])
print(int(f["first_frame_epoch_ms"]) - start, f["first_frame_ms"], f["connected_frame_ms"])
PY
  done
}

report() {
  python3 - "$WORK/$1" "$2" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cols = list(zip(*rows))
names = ["launch -> first frame", "main -> first frame", "main -> connected frame"]
print(f"\n== {sys.argv[2]} ({len(rows)} runs)")
for n, c in zip(names, cols):
    v = [float(x) for x in c if x != "none"]
    print(f"{n:26} median {statistics.median(v):7.1f} ms  min {min(v):7.1f}  max {max(v):7.1f}")
PY
}

echo "binary: $BIN ($(stat -c %s "$BIN") bytes)  cpus: $(nproc)"
run_case spawn
report spawn "no core running: the TUI starts the sidecar"

"$BIN" serve --port 0 --announce >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
for _ in $(seq 200); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
[ -s "$WORK/serve.out" ] || { echo "pryx serve did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }
run_case attach
report attach "a core is running: the TUI attaches"
