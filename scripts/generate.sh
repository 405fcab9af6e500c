#!/usr/bin/env bash
# The main job: set everything up on a fresh machine, then generate text with the default
# SmolLM2 model, loaded straight from its llama.cpp GGUF file (Q4_1, dequantized once at
# load). Arguments go to `flint generate`; without any, a sample prompt is used.
#   scripts/generate.sh
#   scripts/generate.sh --prompt "Once upon a time" --max-new-tokens 64
#   scripts/generate.sh --messages chat.json --json
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$FLINT_ROOT"
bash scripts/fetch-model.sh >&2
# The same package set as scripts/test.sh, so the two README commands share one build
# of Burn (a single-package build resolves its features differently and rebuilds it).
cargo build --release --quiet --workspace --all-targets
model="$FLINT_CACHE/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ "$#" -eq 0 ]; then
  set -- --prompt "The capital of France is" --max-new-tokens 32
fi
exec "$CARGO_TARGET_DIR/release/flint" generate --model "$model" "$@"
