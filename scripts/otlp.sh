#!/usr/bin/env bash
# OTLP export against a receiver built on the official Python `opentelemetry-proto`
# (tests/otlp/receiver.py): the export tests of the pryx binary, with planted personal data and
# secrets that must never reach the collector, and the default (off) that must send nothing.
#
# Creates a venv under target/ (pip install opentelemetry-proto), then runs those end-to-end tests
# with PRYX_OTLP_PYTHON set to it. Fails when any check fails.
#
# Usage: scripts/otlp.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
venv="$target/otlp-venv"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'opentelemetry-proto>=1.30,<2'
fi

# With the workspace selected, as the test suite builds it (one package alone would resolve its
# dependencies' features differently and compile them again).
PRYX_OTLP_PYTHON="$venv/bin/python" \
  cargo nextest run --locked --workspace -E 'binary_id(pryx::e2e) and test(/^otlp_export::/)' \
  --no-capture
