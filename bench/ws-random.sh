#!/usr/bin/env bash
# Event socket bench: the randomized WebSocket test at a larger size. Several clients follow
# concurrent turns on sessions that keep being created, some all sessions with a cursor, some a
# few with `since`; they disconnect, subscribe again on the same socket or a new one, send
# out-of-range, past-the-store and filtered `since` and bogus cursors, read slowly (resyncs),
# and live through two restarts of the server and its core; every client's versions are
# compared with the store (no gap, duplicate or reorder, no stale delta).
#
#   PRYX_WS_RANDOM_EVENTS  stored events to reach (default here 50000; the suite's test uses 4000)
#   PRYX_WS_RANDOM_SEED    the seed of the clients' choices (default the test's own)
#
# Usage: bench/ws-random.sh [--debug]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
flag=--release
[ "${1:-}" = "--debug" ] && flag=""

export PRYX_WS_RANDOM_EVENTS="${PRYX_WS_RANDOM_EVENTS:-50000}"
start=$(date +%s)
cargo test --quiet $flag -p pryx-server --test gateway \
  ws_exact::every_client_gets_each_stored_version_once_in_order_across_restarts -- --nocapture 2>&1 \
  | grep -E "^client|turns on|panicked|FAILED|test result" || true
echo "took $(( $(date +%s) - start )) s (build included)"
