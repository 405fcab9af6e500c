# Sourced by the other scripts: where flint keeps what must outlive a clone.
# CARGO_TARGET_DIR lives outside the clone so CI runs and later sessions reuse the Burn
# build (17 minutes cold on 2 cores); FLINT_CACHE holds downloaded wheels and converted
# fixtures (never committed).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flint/target}"
export FLINT_CACHE="${FLINT_CACHE:-$HOME/.cache/flint}"
FLINT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FLINT_ROOT
