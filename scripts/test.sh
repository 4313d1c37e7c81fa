#!/usr/bin/env bash
# Runs the whole Pryx test suite on a fresh machine: installs every test dependency it needs from the
# package registries (Debian packages, npm peers), then runs formatting, lint and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> [%s s] %s\n' "$SECONDS" "$*"; }

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
# `script` runs the terminal-safety tests under a pseudo-terminal; python3 runs an MCP fixture.
command -v script >/dev/null 2>&1 || need_apt+=(bsdutils)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# Chromium runs the dashboard's browser tests (driven by playwright-core from testdeps/).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The release tests: minisign cross-checks signatures, shellcheck reads install.sh, OpenSSL is
# install.sh's other verifier, systemd-analyze checks the service unit.
command -v minisign >/dev/null 2>&1 || need_apt+=(minisign)
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# cargo-mutants and the dependencies of what the last step mutates build in the background at
# the lowest priority: they take the cycles the builds and tests leave idle instead of minutes
# of their own at the end.
# Its own process group (job control on for the launch), so a failing step stops the whole build.
mkdir -p target
set -m
ionice -c 3 nice -n 19 scripts/mutants.sh --prepare >target/mutants-prepare.log 2>&1 &
mutants_prepare=$!
set +m
trap 'kill -- "-$mutants_prepare" 2>/dev/null || true' EXIT

log "installing npm test peers (testdeps/)"
(cd testdeps && npm ci --no-audit --no-fund --loglevel=error)
export PRYX_TESTDEPS="$PWD/testdeps/node_modules"

if ! command -v cargo-nextest >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi

# Pinned: later releases need a newer rustc than the workspace's.
if ! command -v cargo-shear >/dev/null 2>&1; then
  log "installing cargo-shear"
  cargo install --locked cargo-shear@1.13.0
fi

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo shear (no unused dependencies)"
cargo shear

# Clippy lints the workspace's crates while they build for the tests: clippy-driver wraps rustc
# for them (what `cargo clippy` does, but compiling too), so the dependencies build once and the
# crates are read once, instead of a check pass of everything before the test build. Every later
# cargo command here keeps the wrapper, or it would build the crates again; the mutation step
# drops it (scripts/mutants.sh), as a lint in a mutant is not a test catching it.
log "cargo clippy and the test build (all targets)"
sysroot="$(rustc --print sysroot)"
export RUSTC_WORKSPACE_WRAPPER="$sysroot/bin/clippy-driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo test --workspace --all-targets --locked --no-run

log "cargo nextest run"
cargo nextest run --workspace --locked --no-fail-fast

# The mutation step builds and tests one mutant at a time, mostly on one core: it runs beside
# the steps that drive third-party clients (mostly waiting on the network and Python), and its
# report is printed when they are done.
if ! wait "$mutants_prepare"; then
  cat target/mutants-prepare.log >&2
  exit 1
fi
log "mutation testing of the core security modules starts (fails below 90 %)"
set -m
scripts/mutants.sh >target/mutants-run.log 2>&1 &
mutants_run=$!
set +m
trap 'kill -- "-$mutants_run" 2>/dev/null || true' EXIT

log "doc tests"
cargo test --workspace --locked --doc

log "MCP conformance suite (client mode, all scenarios)"
scripts/mcp-conformance.sh
log "MCP conformance suite (server mode: the fixture set, and the real /mcp)"
scripts/mcp-server-conformance.sh

log "schemathesis against the gateway's OpenAPI document"
scripts/schemathesis.sh
log "OpenAI SDK and the Prometheus parser against the gateway"
scripts/openai-sdk.sh
log "croniter against the cron arithmetic"
scripts/croniter.sh
log "OTLP export against the opentelemetry-proto receiver"
scripts/otlp.sh

# The security code's tests must fail whenever its logic changes (docs/testing.md).
log "mutation testing of the core security modules (fails below 90 %)"
mutants_status=0
wait "$mutants_run" || mutants_status=$?
cat target/mutants-run.log
exit "$mutants_status"
