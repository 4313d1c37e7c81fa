#!/usr/bin/env bash
# Event socket bench: the randomized WebSocket test at a larger size. Several clients follow
# concurrent turns, disconnect, subscribe again on the same socket or a new one, send
# out-of-range, past-the-store and filtered `since` and read slowly; every client's versions are
# compared with the store (no gap, duplicate or reorder, no stale delta).
#
#   PRYX_WS_RANDOM_EVENTS  stored events to reach (default here 10000; the CI test uses 2000)
#   PRYX_WS_RANDOM_SEED    the seed of the clients' choices (default the test's own)
#
# Usage: bench/ws-random.sh [--debug]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
flag=--release
[ "${1:-}" = "--debug" ] && flag=""

export PRYX_WS_RANDOM_EVENTS="${PRYX_WS_RANDOM_EVENTS:-10000}"
start=$(date +%s)
cargo test --quiet $flag -p pryx-server --test ws \
  randomized_clients_get_every_version_once_in_order_and_no_stale_delta -- --nocapture 2>&1 \
  | grep -E "^client|turns,|panicked|FAILED|test result" || true
echo "took $(( $(date +%s) - start )) s (build included)"
