#!/usr/bin/env bash
# Mutation testing of Pryx's security code with cargo-mutants: each mutant is a small change to
# the policy engine or the containment code (a condition flipped, a check switched off); one the
# tests do not notice is a hole in the tests. Prints caught / missed / timeout / unviable per set
# and the score (caught and timed-out over all viable mutants), and fails below
# PRYX_MUTANTS_MIN (default 90).
#
#   scripts/mutants.sh           the core security modules (scripts/test.sh runs this)
#   scripts/mutants.sh --shell   the shell analysis (what a command line runs and touches)
#   scripts/mutants.sh --containment  the containment modules of pryx-tools (path resolution,
#                                confined file access, the sandbox, process groups, addresses)
#   scripts/mutants.sh --rules   the rest of pryx-policy but the shell parser (rules, patterns,
#                                networks, what known programs and code interpreters do)
#   scripts/mutants.sh --parser  the shell parser (with the fuzz and differential tests)
#   scripts/mutants.sh --full    all of pryx-policy and the containment modules of pryx-tools
#                                (the five sets above; hours on 2 cores)
#   scripts/mutants.sh --install only install cargo-mutants when it is missing
#   scripts/mutants.sh --prepare install it and build the default set's dependencies (the test
#                                suite does this in the background while its tests run)
#
# Missed mutants are listed at the end of each set and in
# target/mutants/<set>/mutants.out/missed.txt. A mutant that changes nothing observable is
# excluded in .cargo/mutants.toml with its reason, listed in docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

min="${PRYX_MUTANTS_MIN:-90}"
version="27.1.0"
if ! cargo mutants --version 2>/dev/null | grep -qF "$version"; then
  echo "==> installing cargo-mutants $version"
  install_dir="$(mktemp -d)"
  cargo install --locked --target-dir "$install_dir" "cargo-mutants@$version"
  rm -rf "$install_dir"
fi
if [ "${1:-}" = "--install" ]; then exit 0; fi

# A mutant is caught by a test, never by a lint: clippy's wrapper from the test suite is dropped.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
# Each mutant changes one function: incremental builds reuse the rest (CI turns them off).
export CARGO_INCREMENTAL=1
# Mutated copies build one at a time into one build dir of their own (one job: two would share
# the two cores' builds anyway), with the `mutants` profile (no debug info). Building one package
# resolves its dependencies' features unlike the workspace, so they are built once for it here.
# Two sets run at once need a build dir each (PRYX_MUTANTS_TARGET_DIR). PRYX_MUTANTS_JOBS=N
# tests N mutants at once, each copy in a build dir of its own (cargo would otherwise build
# one copy at a time): for the long sets, where linking and waiting leave cores idle.
jobs="${PRYX_MUTANTS_JOBS:-1}"
if [ "$jobs" -gt 1 ]; then
  unset CARGO_TARGET_DIR
else
  export CARGO_TARGET_DIR="${PRYX_MUTANTS_TARGET_DIR:-$PWD/target/mutants-build}"
fi
# The policy's test targets that judge calls and read shell lines (the parser's differential
# and fuzz tests only matter for the parser, and are most of the time).
policy_tests=(judging shell_parse)
if [ "${1:-}" = "--prepare" ]; then
  cargo test --locked --no-run --profile mutants --package pryx-policy \
    "${policy_tests[@]/#/--test=}"
  exit 0
fi

# The copies and the tests' temporary files go on a tmpfs when one can be mounted (as root, in a
# private mount namespace that takes it away at the end): on a journaling disk, creating and
# removing the thousand files one test needs costs about a second per mutant. (/dev/shm will not
# do: the policy judges paths under /dev.)
# PRYX_MUTANTS_TMPFS=0 keeps them on disk, as the sets with the containment code do: there,
# the test that starts the sandbox helper from a mount namespace of its own cannot start it from
# such a tmpfs (the helper's first process is not found; not understood yet).
case "${1:-}" in
  --containment | --full) tmpfs_default=0 ;;
  *) tmpfs_default=1 ;;
esac
if [ -z "${PRYX_MUTANTS_NS:-}" ] && [ "${PRYX_MUTANTS_TMPFS:-$tmpfs_default}" = 1 ] &&
  [ "$(id -u)" -eq 0 ] &&
  command -v unshare >/dev/null &&
  unshare --mount --propagation private true 2>/dev/null; then
  exec env PRYX_MUTANTS_NS=1 unshare --mount --propagation private "$PWD/scripts/mutants.sh" "$@"
fi
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/pryx-mutants.XXXXXX")"
# Searchable by others: a test runs the sandbox helper built there as an unprivileged user.
chmod 0755 "$TMPDIR"
export TMPDIR
trap 'umount "$TMPDIR" 2>/dev/null || true; rm -rf "$TMPDIR"' EXIT
if [ "${PRYX_MUTANTS_NS:-}" = 1 ] && mount -t tmpfs -o "size=$((jobs > 1 ? 4 * jobs : 2))g,mode=0755" pryx-mutants "$TMPDIR"; then
  echo "==> mutated copies on a tmpfs"
fi

total_caught=0 total_missed=0 total_timeout=0 total_unviable=0

# run_set NAME PACKAGE FILES [TEST-TARGET...]: FILES is a space-separated list of globs (for
# cargo-mutants, not the shell; "-" for the whole package; one starting with ! is left out); the
# test targets named are the only ones built and run for each mutant (all of the package's when
# none is; "lib" is the unit tests). With PRYX_MUTANTS_ONLY naming a file of mutants (as
# cargo-mutants lists them), only those are tested, wherever they moved in their file (the
# line and column are not compared: new code above them shifts them).
run_set() {
  local name="$1" package="$2" files="$3"
  shift 3
  local out="target/mutants/$name" args=() f
  mkdir -p "$out"
  local target
  for target in "$@"; do
    if [ "$target" = lib ]; then args+=(-C --lib); else args+=(-C "--test=$target"); fi
  done
  # The named policy test binaries take about a second, so a mutant still running after ten
  # has made a test loop (counted as caught); other sets keep cargo-mutants' own limit.
  if [ $# -gt 0 ]; then args+=(--timeout "${PRYX_MUTANTS_TIMEOUT:-10}"); fi
  if [ "$files" != "-" ]; then
    set -f
    for f in $files; do
      case "$f" in
        !*) args+=(--exclude "${f#!}") ;;
        *) args+=(--file "$f") ;;
      esac
    done
    set +f
  fi
  if [ -n "${PRYX_MUTANTS_ONLY:-}" ]; then
    local mutant
    while IFS= read -r mutant; do
      args+=(--re "^$(printf '%s' "$mutant" | sed -e 's/[][\\.+*?(){}|^$]/\\&/g' \
        -e 's/^\([^:]*\):[0-9]*:[0-9]*:/\1:[0-9]+:[0-9]+:/')\$")
    done <"$PRYX_MUTANTS_ONLY"
  fi
  echo "==> cargo mutants: $name ($package)"
  local start status=0
  start=$(date +%s)
  # Exit 2 means "mutants missed", 3 "timeouts": the counts below decide.
  # `cargo test` starts a test binary quicker than nextest.
  cargo mutants --package "$package" "${args[@]}" --profile mutants --test-tool cargo \
    --jobs "$jobs" --no-shuffle --output "$out" --colors never >"$out/run.log" 2>&1 || status=$?
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

containment_files="crates/tools/src/path.rs crates/tools/src/beneath.rs \
crates/tools/src/fs/confined.rs crates/tools/src/sandbox/*.rs crates/tools/src/shell/process.rs \
crates/tools/src/http/addr.rs"
core_files="crates/policy/src/judge.rs crates/policy/src/path.rs"
analysis_files="crates/policy/src/shell/analyze.rs"
parser_files="crates/policy/src/shell/parser.rs crates/policy/src/shell/parser/*.rs"
rules_files="crates/policy/src/**/*.rs"
for f in $core_files $analysis_files $parser_files; do rules_files+=" !$f"; done
# The parser in two passes: every mutant against its own tests, the fuzz test (a hundred lines
# of each kind) and what judges calls; then the ones that pass against the differential test
# too, which checks ~2,900 lines against bash and another parser (seconds a mutant).
parser_set() {
  PRYX_FUZZ_CASES="${PRYX_FUZZ_CASES:-100}" \
    run_set shell-parser pryx-policy "$parser_files" lib "${policy_tests[@]}" shell_fuzz
  local missed="target/mutants/shell-parser/mutants.out/missed.txt" n
  n=$(grep -c . "$missed" || true)
  if [ "$n" -gt 0 ]; then
    # The second pass decides what the first one missed.
    total_missed=$((total_missed - n))
    cp "$missed" target/mutants/shell-parser/first-pass-missed.txt
    PRYX_MUTANTS_ONLY=target/mutants/shell-parser/first-pass-missed.txt \
      PRYX_MUTANTS_TIMEOUT="${PRYX_MUTANTS_DIFF_TIMEOUT:-120}" \
      run_set shell-parser-differential pryx-policy "$parser_files" lib "${policy_tests[@]}" \
      shell_fuzz shell_differential
  fi
}
case "${1:-}" in
  --full)
    run_set policy-core pryx-policy "$core_files" "${policy_tests[@]}"
    run_set shell-analysis pryx-policy "$analysis_files" "${policy_tests[@]}"
    run_set policy-rules pryx-policy "$rules_files" lib "${policy_tests[@]}"
    parser_set
    run_set tools-containment pryx-tools "$containment_files"
    ;;
  --rules)
    run_set policy-rules pryx-policy "$rules_files" lib "${policy_tests[@]}"
    ;;
  --parser)
    parser_set
    ;;
  --containment)
    run_set tools-containment pryx-tools "$containment_files"
    ;;
  --shell)
    run_set shell-analysis pryx-policy "$analysis_files" "${policy_tests[@]}"
    ;;
  "")
    # The hard checks on paths, shell lines, URLs and foreign tools' arguments, and resolving
    # a path the way the kernel will.
    run_set policy-core pryx-policy "$core_files" "${policy_tests[@]}"
    ;;
  *)
    echo "usage: scripts/mutants.sh [--shell | --containment | --rules | --parser | --full | --install | --prepare]" >&2
    exit 2
    ;;
esac

viable=$((total_caught + total_missed + total_timeout))
if [ "$viable" -eq 0 ]; then echo "no viable mutants" >&2; exit 1; fi
score=$(( (total_caught + total_timeout) * 1000 / viable ))
printf '==> mutation score: %d.%d %% (caught %d, missed %d, timeout %d, unviable %d)\n' \
  $((score / 10)) $((score % 10)) "$total_caught" "$total_missed" "$total_timeout" "$total_unviable"
if [ "$score" -lt $((min * 10)) ]; then
  echo "below the $min % the security code's tests must reach: make a test fail for each missed mutant" >&2
  exit 1
fi
