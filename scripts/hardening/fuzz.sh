#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of every reader of user-given bytes.
#
#   scripts/hardening/fuzz.sh [RUNS] [TARGET...]     default: 100000 inputs per target, all targets
#
# Builds the etrack-fuzz harness (Package.swift adds it when ETRACK_FUZZ=1) in .build-fuzz, then
# runs each target from its corpus in Fuzz/corpus/<target> (read only; new inputs go to a scratch
# folder). A crash, a leak, a timeout (> 10 s per input) or a memory blow-up (> 2 GB) fails the
# script and leaves the reproducer in .build-fuzz/crashes/<target>. `--merge` instead minimises
# the scratch corpora into Fuzz/corpus (to refresh the corpora kept in the repo).
set -euo pipefail
cd "$(dirname "$0")/../.."
MERGE=0
if [ "${1:-}" = "--merge" ]; then MERGE=1; shift; fi
RUNS=${1:-100000}; shift || true
# FUZZ_SEED fixes libFuzzer's random seed (scripts/test.sh uses 1, so a CI pass is repeatable);
# unset, every run explores differently.
SEED_FLAG=${FUZZ_SEED:+-seed=$FUZZ_SEED}
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(onnx safetensors tensor image text arguments)
# lld: the gold linker crashes on the sanitizer runtime here.
ETRACK_FUZZ=1 swift build -c release --product etrack-fuzz --build-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >/dev/null
BIN=.build-fuzz/release/etrack-fuzz
printf "| target | inputs run | crashes | corpus files | corpus bytes | seconds |\n|---|---|---|---|---|---|\n"
status=0
for t in "${TARGETS[@]}"; do
  scratch=.build-fuzz/scratch/$t; crashes=.build-fuzz/crashes/$t
  mkdir -p "$scratch" "$crashes" "Fuzz/corpus/$t"
  start=$(date +%s)
  log=.build-fuzz/$t.log
  if [ $MERGE = 1 ]; then
    tmp=$(mktemp -d); ETRACK_FUZZ_TARGET=$t "$BIN" -merge=1 "$tmp" "Fuzz/corpus/$t" "$scratch" >"$log" 2>&1
    rm -rf "Fuzz/corpus/$t"; mv "$tmp" "Fuzz/corpus/$t"; continue
  fi
  set +e
  ETRACK_FUZZ_TARGET=$t "$BIN" "$scratch" "Fuzz/corpus/$t" -runs="$RUNS" $SEED_FLAG -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  found=$(ls "$crashes" | wc -l)
  files=$(ls "Fuzz/corpus/$t" | wc -l); bytes=$(cat "Fuzz/corpus/$t"/* 2>/dev/null | wc -c)
  echo "| $t | $runs | $found | $files | $bytes | $(( $(date +%s) - start )) |"
  if [ $rc -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1; echo "  $t failed (exit $rc); see $log and $crashes" >&2; grep -m5 -E "ERROR|==[0-9]+==|Fatal" "$log" >&2 || true
  fi
done
exit $status
