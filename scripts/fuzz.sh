#!/usr/bin/env bash
# Fuzzes the webhook bodies, the Markdown renderer and sanitizer, time and duration parsing,
# the list filters and cursors, and the configuration with cargo fuzz (libFuzzer), each target
# for SECONDS (default 600), starting from its corpus in fuzz/corpus/TARGET. A crash or a failed
# assertion stops the script with the input that caused it (under fuzz/artifacts/TARGET).
# New inputs go to a scratch corpus (~/.cache/switchyard/fuzz-corpus); with FUZZ_SAVE=1 those
# that reach new code are merged into the repository's corpus afterwards, to commit.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     # every target in fuzz/fuzz_targets by default
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
choose_toolchain
ensure_cargo_fuzz
cd "$ROOT/fuzz"

seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
fuzz_target_dir="$HOME/.cache/switchyard/fuzz-target"
# No sanitizer: the code under test is safe Rust, so what the fuzzer looks for is a panic
# (an assertion in a target, an overflow, an index out of bounds), which needs none, and the
# build stays a plain optimized one with debug assertions.
fuzz=(--sanitizer none --target-dir "$fuzz_target_dir")

say "building the fuzz targets"
cargo fuzz build "${fuzz[@]}"
for target in "${targets[@]}"; do
  scratch="$HOME/.cache/switchyard/fuzz-corpus/$target"
  mkdir -p "$scratch" "corpus/$target"
  say "fuzzing $target for ${seconds}s"
  log="$scratch.log"
  if ! cargo fuzz run "${fuzz[@]}" "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    die "fuzz target $target failed; the input that did it is under fuzz/artifacts/$target"
  fi
  grep -E '^Done [0-9]+ runs|stat::peak_rss_mb|stat::new_units_added' "$log" || true
  if [ "${FUZZ_SAVE:-0}" = 1 ]; then
    # Only inputs that reach new code (edges, not hit counts), at most 4 KiB: the corpus
    # stays small enough to keep in git.
    cargo fuzz run "${fuzz[@]}" "$target" "corpus/$target" "$scratch" -- \
      -set_cover_merge=1 -use_counters=0 -max_len=4096 2>&1 | tail -n 1
  fi
done
