#!/usr/bin/env bash
# Measures `pryx --version` and `pryx doctor` wall time (hyperfine: median, mean, min, max over 100
# runs after 5 warm-ups) and peak RSS (/usr/bin/time -v) on the release binary, with a fresh data
# dir. Prints figures; record them in docs/benchmarks.md.
# Usage: bench/cli-startup.sh [--no-build]   (--no-build measures the existing target/release/pryx)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

log="$(mktemp)"
if [ "${1:-}" = "--no-build" ]; then
  : # measure the binary already built
elif ! cargo build --release --locked -p pryx >"$log" 2>&1; then
  echo "release build failed:" >&2
  grep -vE '^\s+(Compiling|Blocking)' "$log" | tail -40 >&2
  exit 1
fi
rm -f "$log"
BIN="$PWD/target/release/pryx"
PRYX_HOME="$(mktemp -d)/home"
OUT="$(mktemp -d)"
export PRYX_HOME PRYX_SECRET_BACKEND=file
trap 'rm -rf "$(dirname "$PRYX_HOME")" "$OUT"' EXIT
"$BIN" doctor >/dev/null || true   # first run creates the data dir and database

peak_rss_kb() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}'; }

echo "binary size: $(stat -c %s "$BIN") bytes"
echo "cpus: $(nproc)  kernel: $(uname -r)"
for cmd in "--version" "doctor"; do
  json="$OUT/${cmd#--}.json"
  hyperfine -N --warmup 5 --runs 100 --style none --export-json "$json" "$BIN $cmd" >/dev/null 2>&1
  python3 - "$json" "$cmd" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = lambda s: f"{s * 1000:.2f} ms"
print(f"\n== pryx {sys.argv[2]}")
print(f"median {ms(r['median'])}  mean {ms(r['mean'])} ± {ms(r['stddev'])}  min {ms(r['min'])}  max {ms(r['max'])}")
PY
  rss=()
  for _ in 1 2 3 4 5; do rss+=("$(peak_rss_kb "$BIN" $cmd || true)"); done
  echo "peak RSS over 5 runs (KB): ${rss[*]}"
done
