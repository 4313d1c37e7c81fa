#!/usr/bin/env bash
# Times the sessions explorer's query (the dashboard's /sessions) over a store of 100,000
# sessions, without and with each filter, and prints each query's plan. Goal: ≤ 50 ms.
# Usage: bench/web-search.sh [SESSIONS]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
PRYX_BENCH_SESSIONS="${1:-100000}" cargo bench -p pryx-store --bench explore
