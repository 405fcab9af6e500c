#!/usr/bin/env bash
# The test command: set everything up on a fresh machine, then run every test.
# Python packages and the SmolLM2 fixture are installed/built only when absent; the Burn
# build is reused from $CARGO_TARGET_DIR when present.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$FLINT_ROOT"
bash scripts/fetch-model.sh
cargo fmt --all -- --check
cargo test --release --workspace --exclude flint-bench
