#!/usr/bin/env bash
# ThreadSanitizer over the code that runs in parallel: `etrack eval run` with several jobs (one
# tracker each, all sharing one loaded model), each tracker's network on a thread pool of 2, for
# a NanoTrack model and a one-stream model; then `etrack track --threads 2`. Any reported race
# fails the script.
#
#   scripts/hardening/tsan.sh [SHARED]      (SHARED defaults to ../shared)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${1:-../shared}
swift build -c release --product etrack --build-path .build-tsan -Xswiftc -sanitize=thread -Xcc -fsanitize=thread \
  -Xswiftc -use-ld=lld >/dev/null
BIN=.build-tsan/release/etrack
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0"
SEQS=OTB_Crossing,DAVIS_car-shadow,UAV123_10fps_wakeboard7,OTB_MotorRolling
runs=0
for model in "$SHARED/models/nanotrack-v2" et-128-fgaf3-bn; do
  for jobs in 2 4; do
    start=$(date +%s)
    "$BIN" eval run --tracker "$model" --dataset folder --root "$SHARED/data/sequences" --sequences $SEQS \
      --results "$W/$jobs-$(basename $model)" --jobs $jobs --threads 2 --quiet > "$W/log" 2>&1 \
      || { cat "$W/log"; echo "TSan: eval run --jobs $jobs --threads 2 with $model failed (exit $?)"; exit 1; }
    runs=$((runs + 1))
    echo "eval run --jobs $jobs --threads 2, $(basename $model): 4 sequences, no race ($(( $(date +%s) - start )) s)"
  done
done
"$BIN" track --model "$SHARED/models/nanotrack-v2" --sequence "$SHARED/data/sequences/OTB_Crossing" --threads 2 > "$W/log" 2>&1 \
  || { cat "$W/log"; echo "TSan: track --threads 2 failed"; exit 1; }
echo "track --threads 2, nanotrack-v2: no race"
echo "OK: $((runs + 1)) runs under ThreadSanitizer, 0 races"
