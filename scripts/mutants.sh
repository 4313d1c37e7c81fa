#!/usr/bin/env bash
# Mutation testing of Pryx's security code with cargo-mutants: each mutant is a small change to
# the policy engine or the containment code (a condition flipped, a check switched off); one the
# tests do not notice is a hole in the tests. Prints caught / missed / timeout / unviable per set
# and the score (caught and timed-out over all viable mutants), and fails below
# PRYX_MUTANTS_MIN (default 90).
#
#   scripts/mutants.sh           the core security modules (scripts/test.sh runs this)
#   scripts/mutants.sh --full    all of pryx-policy and the containment modules of pryx-tools
#   scripts/mutants.sh --install only install cargo-mutants when it is missing
#
# Missed mutants are listed at the end of each set and in
# target/mutants/<set>/mutants.out/missed.txt. A mutant that changes nothing observable would be
# excluded in .cargo/mutants.toml with its reason, listed in docs/testing.md (none is today).
set -euo pipefail
cd "$(dirname "$0")/.."

min="${PRYX_MUTANTS_MIN:-90}"
# Each mutant changes one function: incremental builds reuse the rest (CI turns them off).
export CARGO_INCREMENTAL=1
# The mutated copies build into this checkout's target dir, so the dependencies the test suite
# built already are reused (only the workspace's own crates are built again, once per copy path).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
version="27.1.0"
if ! cargo mutants --version 2>/dev/null | grep -qF "$version"; then
  echo "==> installing cargo-mutants $version"
  # Its own build directory: never the checkout's target dir set above.
  install_dir="$(mktemp -d)"
  cargo install --locked --target-dir "$install_dir" "cargo-mutants@$version"
  rm -rf "$install_dir"
fi
if [ "${1:-}" = "--install" ]; then exit 0; fi

total_caught=0 total_missed=0 total_timeout=0 total_unviable=0

# run_set NAME PACKAGE FILES [-- TEST-ARGS...]: FILES is a space-separated list of globs (for
# cargo-mutants, not the shell; "-" for the whole package); TEST-ARGS pick the test targets.
run_set() {
  local name="$1" package="$2" files="$3"
  shift 3
  local out="target/mutants/$name" args=() f
  mkdir -p "$out"
  if [ "$files" != "-" ]; then
    set -f
    for f in $files; do args+=(--file "$f"); done
    set +f
  fi
  echo "==> cargo mutants: $name ($package)"
  local start status=0
  start=$(date +%s)
  # Exit 2 means "mutants missed", 3 "timeouts": the counts below decide.
  cargo mutants --package "$package" "${args[@]}" --test-tool nextest --jobs 2 --no-shuffle \
    --output "$out" --colors never "$@" >"$out/run.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 2 ] && [ "$status" -ne 3 ]; then
    tail -n 30 "$out/run.log" >&2
    echo "cargo mutants failed (exit $status): see $out/run.log" >&2
    exit "$status"
  fi
  local caught missed timeout unviable
  read -r caught missed timeout unviable < <(python3 - "$out/mutants.out/outcomes.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
print(o["caught"], o["missed"], o["timeout"], o["unviable"])
PY
)
  echo "    $name: caught $caught, missed $missed, timeout $timeout, unviable $unviable ($(( $(date +%s) - start )) s)"
  if [ "$missed" -gt 0 ]; then sed 's/^/    missed: /' "$out/mutants.out/missed.txt"; fi
  total_caught=$((total_caught + caught)) total_missed=$((total_missed + missed))
  total_timeout=$((total_timeout + timeout)) total_unviable=$((total_unviable + unviable))
}

# The policy tests that judge paths, commands and arguments, in one binary (the parser's
# differential and fuzz tests only matter for the parser, and are most of the test time).
policy_tests=(-- --test judging)

if [ "${1:-}" = "--full" ]; then
  run_set policy pryx-policy -
  run_set tools-containment pryx-tools "crates/tools/src/path.rs crates/tools/src/beneath.rs \
crates/tools/src/fs/confined.rs crates/tools/src/sandbox/*.rs crates/tools/src/shell/process.rs \
crates/tools/src/http/addr.rs"
else
  run_set policy-core pryx-policy "crates/policy/src/judge.rs crates/policy/src/path.rs" \
    "${policy_tests[@]}"
fi

viable=$((total_caught + total_missed + total_timeout))
if [ "$viable" -eq 0 ]; then echo "no viable mutants" >&2; exit 1; fi
score=$(( (total_caught + total_timeout) * 1000 / viable ))
printf '==> mutation score: %d.%d %% (caught %d, missed %d, timeout %d, unviable %d)\n' \
  $((score / 10)) $((score % 10)) "$total_caught" "$total_missed" "$total_timeout" "$total_unviable"
if [ "$score" -lt $((min * 10)) ]; then
  echo "below the $min % the security code's tests must reach: make a test fail for each missed mutant" >&2
  exit 1
fi
