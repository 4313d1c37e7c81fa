#!/usr/bin/env bash
# WebSocket fan-out: one event to N subscribers (default 100), from the event's timestamp in the
# core to its arrival at each reader (p50/p95/p99 over 50 events), measured twice:
#
#   shared  the core, the readers and the scripted model all float over every core
#   pinned  the core alone on CPU 0; the readers and the model on the other CPUs (`taskset`),
#           so the figure is the broadcast path's, not the scheduler's
#
# Goal: p99 <= 2 ms. Needs at least 2 CPUs for the pinned run.
# Usage: bench/fanout.sh [--debug] [SUBSCRIBERS]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; shift; fi
flag=$([ "$profile" = release ] && echo --release || true)
subscribers="${1:-100}"

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
cargo build --quiet $flag -p pryx-server --example gateway_load
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"
load="$target/$profile/examples/gateway_load"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
start_scripted_core

cpus="$(nproc)"
echo "== shared: core, readers and model on all $cpus CPUs"
"$load" fanout "$port" "$token" "$llm_url" "$subscribers"

if [ "$cpus" -lt 2 ]; then
  echo "== pinned: SKIPPED (needs 2 CPUs)"
  exit 0
fi
echo "== pinned: core on CPU 0; readers and model on CPUs 1-$((cpus - 1))"
taskset -a -pc 0 "$core_pid" >/dev/null
taskset -a -pc "1-$((cpus - 1))" "$llm_pid" >/dev/null
taskset -c "1-$((cpus - 1))" "$load" fanout "$port" "$token" "$llm_url" "$subscribers"
