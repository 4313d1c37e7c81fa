#!/usr/bin/env bash
# The cron arithmetic of pryx-scheduler against Python's `croniter`: the next runs of seeded random
# cron expressions, in UTC and across DST changes in Europe/Berlin and America/New_York
# (crates/scheduler/tests/cron_differential.rs says what is compared and what is excluded).
#
# Creates a venv under target/ (pip install croniter, pinned, and tzdata), then runs the
# differential test with PRYX_CRONITER_PYTHON set to it. Fails when any answer disagrees.
#
# Usage: scripts/croniter.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
venv="$target/croniter-venv"
# The DST behaviour the test's exclusions describe is croniter 7.0's.
spec='croniter>=7.0,<7.1'

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c '
from importlib.metadata import version
import zoneinfo
zoneinfo.ZoneInfo("Europe/Berlin")
assert version("croniter").startswith("7.0.")' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec" tzdata
fi

# With the workspace selected, as the test suite builds it (one package alone would resolve its
# dependencies' features differently and compile them again).
PRYX_CRONITER_PYTHON="$venv/bin/python" \
  cargo nextest run --locked --workspace -E 'binary_id(pryx-scheduler::cron_differential)' \
  --no-capture
