#!/usr/bin/env bash
# Measures `pryx --version` and `pryx doctor` wall time (hyperfine) and peak RSS (/usr/bin/time -v)
# on the release binary, with a fresh data dir. Prints figures; record them in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --locked -p pryx >/dev/null 2>&1
BIN="$PWD/target/release/pryx"
PRYX_HOME="$(mktemp -d)"
export PRYX_HOME PRYX_SECRET_BACKEND=file
trap 'rm -rf "$PRYX_HOME"' EXIT
"$BIN" doctor >/dev/null || true   # first run creates the data dir and database

peak_rss_kb() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}'; }

echo "binary size: $(stat -c %s "$BIN") bytes"
for cmd in "--version" "doctor"; do
  echo
  echo "== pryx $cmd"
  hyperfine -N --warmup 5 --runs 100 --style basic "$BIN $cmd" 2>/dev/null | grep -E 'Time|Range' || true
  rss=$(peak_rss_kb "$BIN" $cmd || true)
  echo "peak RSS: ${rss} KB"
done
