#!/usr/bin/env bash
# Reliability bench: the long variants of the fault-injection tests.
#
#   1. kill -9 bursts: `pryx serve` killed at a different moment in each of PRYX_KILL_ROUNDS
#      (default 50) rounds while four clients post; prints how many messages were acknowledged
#      and that none was lost (the test fails otherwise).
#   2. the next message right after `turn.completed`: 20 sessions x 500 turns with the scripted
#      model answering at once, each next message posted the moment the previous turn's
#      `turn.completed` arrives; any refusal (409 included) counts as an error. Goal: 0.
#
# Usage: bench/reliability.sh [--debug]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
flag=$([ "$profile" = release ] && echo --release || true)

echo "== kill -9 bursts"
PRYX_KILL_ROUNDS="${PRYX_KILL_ROUNDS:-50}" cargo test --quiet $flag -p pryx --test e2e \
  serve_crash::acknowledged_messages_survive_kill_9_in_bursts -- --nocapture 2>&1 | grep -E "kill -9 bursts|panicked|FAILED" || true

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
cargo build --quiet $flag -p pryx-server --example gateway_load
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"
load="$target/$profile/examples/gateway_load"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
start_scripted_core
echo "== the next message right after turn.completed"
"$load" turns "$port" "$token" "$llm_url" 20 500
