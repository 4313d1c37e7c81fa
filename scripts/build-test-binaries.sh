#!/usr/bin/env bash
# Builds the workspace's binaries exactly as the test suite builds them (`cargo test --no-run` on
# the whole workspace is what nextest runs), so after it nothing is built again: one package
# alone, bins alone (without the dev-dependencies' features) or the `dev` profile each resolve or
# build the dependencies differently and compile them all again. The binaries are in
# target/debug/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --quiet --locked --workspace --no-run
