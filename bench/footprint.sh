#!/usr/bin/env bash
# Footprint bench: the size and memory goals, each printed with PASS or FAIL.
#
#   1. the stripped release binary (goal <= 20 MB)
#   2. idle RSS of `pryx serve` 10 s after start, on a fresh data dir (goal <= 15 MB)
#   3. RSS after 1,000 turns with the scripted model answering at once (goal <= 20 MB)
#   and, for reading them, the split of idle RSS into file-backed and anonymous pages
#   (/proc/PID/smaps_rollup).
#
# A cold build's time is not measured here (it needs an empty target dir: run
# `CARGO_TARGET_DIR=$(mktemp -d) cargo build --release -p pryx` under `time`).
# Usage: bench/footprint.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"

cargo build --quiet --release -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
cargo build --quiet --release -p pryx-server --example gateway_load
pryx="$target/release/pryx"
llm_bin="$target/release/pryx-scripted-llm"
load="$target/release/examples/gateway_load"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
verdict() { # name value_mb goal_mb
  if awk -v v="$2" -v g="$3" 'BEGIN { exit !(v <= g) }'; then r=PASS; else r=FAIL; fi
  printf '%-40s %8.1f MB   goal <= %s MB   %s\n' "$1" "$2" "$3" "$r"
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rss() { # name goal_mb: the core's RSS against the goal, then its split
  verdict "$1" "$(rss_mb "$core_pid")" "$2"
  awk '/^Rss|^Anonymous|^Pss_File/ {printf "  %-14s %7.1f MB\n", $1, $2/1024}' "/proc/$core_pid/smaps_rollup"
  # Where the anonymous part is: glibc's main heap, the largest other anonymous mapping (a
  # thread's arena, typically) and the binary's relocated pages; then the thread count.
  awk -v bin="$(readlink -f "$pryx")" '
    /^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "[anon]" : $6; next }
    /^Anonymous:/ {
      if (name == "[heap]") heap += $2
      else if (name == bin) reloc += $2
      else if (name == "[anon]" && $2 > big) big = $2
    }
    END { printf "  %-14s %7.1f MB   largest other anonymous %.1f MB   binary relocated %.1f MB\n", "[heap]", heap/1024, big/1024, reloc/1024 }
  ' "/proc/$core_pid/smaps"
  printf '  %-14s %7d\n' "threads" "$(ls "/proc/$core_pid/task" | wc -l)"
}

cp "$pryx" "$work/pryx-stripped"
strip "$work/pryx-stripped"
size_mb="$(awk -v b="$(stat -c %s "$work/pryx-stripped")" 'BEGIN {printf "%.1f", b/1048576}')"
verdict "stripped release binary" "$size_mb" 20

start_scripted_core
sleep 10
rss "idle RSS of pryx serve after 10 s" 15

"$load" turns "$port" "$token" "$llm_url" 10 100 >/dev/null
rss "RSS after 1,000 turns" 20
