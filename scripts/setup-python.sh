#!/usr/bin/env bash
# Installs the Python packages used by tests/fixtures/ (GGUF -> Hugging Face
# fixture conversion) and tests/reference/ (numpy Llama reference).
# Idempotent: a package already installed at the pinned version is skipped,
# so a second run does nothing; pip runs quietly.
# Pins: tokenizers/safetensors match the Rust crates' minor versions
# (tokenizers 0.22, safetensors 0.7) so tokenizer.json is written by the same
# serializer the Rust side parses; the exact pins keep fixtures byte-stable.
# Usage: scripts/setup-python.sh   (PYTHON=python3.11 to pick an interpreter)
set -euo pipefail

PYTHON="${PYTHON:-python3}"

# "distribution==version" pins, verified to install on Python 3.11.
PINS=(
  "numpy==2.4.6"
  "gguf==0.19.0"
  "safetensors==0.7.0"
  "tokenizers==0.22.2"
  "jinja2==3.1.6"
  "sentencepiece==0.2.3"
  "protobuf==7.36.2"
)

missing=()
for pin in "${PINS[@]}"; do
  dist="${pin%%==*}"
  want="${pin#*==}"
  have="$("$PYTHON" -c "import importlib.metadata as m; print(m.version('${dist}'))" 2>/dev/null || true)"
  if [ "$have" != "$want" ]; then
    missing+=("$pin")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-python: all packages present"
  exit 0
fi

echo "setup-python: installing ${missing[*]}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${missing[@]}"
"$PYTHON" -c "import numpy, gguf, safetensors, tokenizers, jinja2, sentencepiece, google.protobuf"
echo "setup-python: done"
