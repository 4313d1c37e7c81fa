#!/usr/bin/env bash
# Property-based API tests: schemathesis against the OpenAPI document of a real `pryx serve`.
#
# Creates a venv under target/ (pip install schemathesis), builds the workspace's binaries,
# starts `pryx serve` on a temporary PRYX_HOME whose model is the scripted LLM, runs schemathesis
# with the API token, and stops both servers by pid. Fails on any 5xx or schema violation.
#
# Usage: scripts/schemathesis.sh [extra schemathesis args]
#   SCHEMATHESIS_MAX_EXAMPLES (default 30) test cases per operation.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
venv="$target/schemathesis-venv"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

"$root/scripts/build-test-binaries.sh"
pryx="$target/debug/pryx"
llm_bin="$target/debug/pryx-scripted-llm"

work="$(mktemp -d)"
llm_pid=""
core_pid=""
cleanup() {
  [ -n "$core_pid" ] && kill -TERM "$core_pid" 2>/dev/null && wait "$core_pid" 2>/dev/null || true
  [ -n "$llm_pid" ] && kill "$llm_pid" 2>/dev/null && wait "$llm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Enough instant answers for every turn schemathesis starts.
python3 - "$work/script.json" <<'EOF'
import json, sys
json.dump([{"text": "ok"} for _ in range(20000)], open(sys.argv[1], "w"))
EOF
"$llm_bin" "$work/script.json" >"$work/llm.port" 2>"$work/llm.err" &
llm_pid=$!
for _ in $(seq 100); do [ -s "$work/llm.port" ] && break; sleep 0.05; done
llm_port="$(head -1 "$work/llm.port")"

mkdir -p "$work/home" "$work/ws"
cat >"$work/home/config.json" <<EOF
{"providers": {"mock": {"kind": "openai-compatible", "base_url": "http://127.0.0.1:$llm_port/v1", "catalog_id": "openai"}},
 "defaults": {"model": "mock/gpt-4o"}}
EOF
# The invalid-auth probes of every operation must each get 401, not the 429 that protects a real
# gateway from guessing.
PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file "$pryx" serve --announce --workspace "$work/ws" \
  --auth-failures-per-minute 100000 --log-to file >"$work/core.port" 2>"$work/core.err" &
core_pid=$!
for _ in $(seq 200); do [ -s "$work/core.port" ] && break; sleep 0.05; done
port="$(head -1 "$work/core.port")"
token="$(cat "$work/home/token")"

# Adding a skill clones or unpacks what it is given and adding an MCP server starts the command
# it is given: random values would be random programs and hosts. Both are tested end to end
# (the gateway's extensions tests, the browser's extensions scenario).
status=0
"$venv/bin/schemathesis" --config-file "$root/scripts/schemathesis.toml" \
  run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --exclude-path /api/v1/ws \
  --exclude-operation-id add_skills \
  --exclude-operation-id add_mcp_server \
  --workers 1 \
  --seed 1 \
  --request-timeout 10 \
  --suppress-health-check too_slow \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- pryx serve log (last 40 lines)" >&2
  tail -40 "$work/home/logs/core.log" >&2 || true
fi
exit "$status"
