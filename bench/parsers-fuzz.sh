#!/usr/bin/env bash
# Longer runs of the parser fuzzers and the shell differential test that CI runs small: the
# parsers that read text others control (SKILL.md frontmatter and its JSON5 metadata, provider
# SSE streams, the shell commands a model asks to run).
#
#   skills-fuzz        JSON5 and SKILL.md: generated, mutated stored corpus, arbitrary text
#   sse-fuzz           SSE decoder: random streams in random cut points, cap held
#   shell-fuzz         shell reader + analyser: generated, mutated stored corpus, arbitrary text
#   shell-differential ours against brush-parser, bash -n as the oracle, on DIFF_LINES lines
#   sse-300mib         a 300 MiB SSE line fed to the decoder (release build): error and peak RSS
#
# The stored corpus is crates/policy/tests/shell_corpus/ plus the bundled skills; a failing case
# is kept by proptest under proptest-regressions/ next to its test and replayed first.
# Goal: every run passes (no panic, no unexplained disagreement) with peak RSS < 64 MB.
# Usage: bench/parsers-fuzz.sh   (FUZZ_CASES=20000 DIFF_LINES=20000 by default)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cases="${FUZZ_CASES:-20000}"
lines="${DIFF_LINES:-20000}"
export PRYX_TESTDEPS="${PRYX_TESTDEPS:-$root/testdeps/node_modules}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

crates=(-p pryx-skills -p pryx-llm -p pryx-policy)
cargo test --quiet --no-run "${crates[@]}" --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*"' | cut -d'"' -f4 >"$work/bins"

bin() { grep -E "/$1-[0-9a-f]+$" "$work/bins" | head -1; }

# Runs a test binary with a filter; prints the verdict, peak RSS and wall time.
run() {
  local name="$1" exe="$2" filter="$3"
  shift 3
  local verdict=PASS
  env "$@" /usr/bin/time -f '%M %e' -o "$work/time" "$exe" "$filter" --test-threads 1 --nocapture \
    >"$work/out" 2>"$work/err" || verdict=FAIL
  read -r kib secs < <(tail -1 "$work/time")
  local mb
  mb="$(awk -v k="$kib" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')"
  [ "$(awk -v m="$mb" 'BEGIN { print (m < 64) }')" = 1 ] || verdict=FAIL
  printf '%-20s %-4s peak RSS %6s MB  %7.1f s\n' "$name" "$verdict" "$mb" "$secs"
  grep -h 'shell differential\|ours asks on' "$work/err" | sed 's/^/    /' || true
  if [ "$verdict" = FAIL ]; then tail -30 "$work/out" "$work/err"; fi
}

echo "cases per property: $cases, differential lines generated: $lines"
run skills-fuzz "$(bin pryx_skills)" fuzz:: PRYX_FUZZ_CASES="$cases"
run sse-fuzz "$(bin integration)" sse_fuzz:: PRYX_FUZZ_CASES="$cases"
run shell-fuzz "$(bin shell_fuzz)" '' PRYX_FUZZ_CASES="$cases"
run shell-differential "$(bin shell_differential)" '' PRYX_SHELL_DIFF_GENERATED="$lines"

cargo bench --quiet -p pryx-llm --bench sse_decoders 2>/dev/null | sed 's/^/    /'
