#!/usr/bin/env bash
# Fuzzes every parser, one target at a time (one core each, niced).
#
#   fuzz/run.sh                   # each target to the issue's bar: 10M runs or 30 minutes
#   fuzz/run.sh 600               # each target for at most 600 s
#   fuzz/run.sh 600 gguf config   # only these targets
#
# Needs `cargo install cargo-fuzz` and a nightly toolchain. Builds without a sanitizer
# (`-s none`): the parsers are safe Rust, so bounds are checked anyway and the runs go
# several times faster; crashes are panics, aborts from the allocation bound
# (fuzz/src/lib.rs), timeouts and OOMs. Writes the summary line of each run to
# fuzz/logs/<target>.log; crashing inputs land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors_header shard_index gguf config chat_template)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/flint/target-fuzz}

python3 seeds.py
mkdir -p logs
nice cargo +nightly fuzz build -s none
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dict=()
    [ -f "dict/$t.dict" ] && dict=("-dict=dict/$t.dict")
    # Regression inputs seed the run too, so a fixed crash stays fixed.
    seeds=()
    [ -d "regressions/$t" ] && seeds=("regressions/$t")
    echo "== $t: up to ${seconds}s or 10M runs" >&2
    nice cargo +nightly fuzz run -s none "$t" "corpus/$t" "${seeds[@]}" -- \
        -runs=10000000 -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="artifacts/$t/" 2>&1 | tee "logs/$t.log" | grep -E "^#[0-9]+.*(pulse|DONE)|Done|ERROR|panicked|stat::" >&2 || true
done
