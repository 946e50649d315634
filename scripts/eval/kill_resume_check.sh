#!/bin/bash
# Real-process resume check: `etrack eval run` killed with SIGKILL midway and restarted must give
# exactly the box files of an uninterrupted run (time files differ by nature and are only checked
# for presence). Complements the in-process RunnerTests.testResumeAfterAKillGivesTheSameFiles.
#
#   scripts/eval/kill_resume_check.sh [ETRACK] [MODEL] [DATA]
set -euo pipefail
ETRACK=${1:-.build/release/etrack}
MODEL=${2:-../shared/models/nanotrack-v2}
DATA=${3:-../shared/data/sequences}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

"$ETRACK" eval run --tracker "$MODEL" --dataset folder --root "$DATA" --results "$W/full" --jobs 2 --quiet

"$ETRACK" eval run --tracker "$MODEL" --dataset folder --root "$DATA" --results "$W/killed" --jobs 2 --quiet &
pid=$!
# Kill once some but not all sequences are finished.
for _ in $(seq 1 600); do
    n=$(ls "$W/killed" 2>/dev/null | grep -c '^[^.].*[^e]\.txt$' || true)
    [ "$n" -ge 3 ] && break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "killed after $(ls "$W/killed" | grep -c '^[^.].*[^e]\.txt$' || true) finished sequence(s)"

"$ETRACK" eval run --tracker "$MODEL" --dataset folder --root "$DATA" --results "$W/killed" --jobs 2 --quiet
for f in "$W"/full/*.txt; do
    b=$(basename "$f")
    case "$b" in *_time.txt) [ -f "$W/killed/$b" ] || { echo "missing $b"; exit 1; }; continue;; esac
    cmp -s "$f" "$W/killed/$b" || { echo "differs: $b"; exit 1; }
done
[ "$(ls "$W/full" | wc -l)" = "$(ls "$W/killed" | wc -l)" ] || { echo "file sets differ"; exit 1; }
echo "OK: resumed run equals the uninterrupted run ($(ls "$W/full" | grep -vc _time) sequences)"
