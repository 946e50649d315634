#!/usr/bin/env bash
# The test command: the Swift test suite in release (numeric code is 10-100x slower in debug),
# then the reference comparisons that print parity and speed against OpenCV.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product etrack
swift test -c release
echo
echo "== cv2.TrackerNano vs etrack (box parity and update speed, 1 thread) =="
for v in v2 v1; do
  python3 scripts/compare/opencv_nanotrack.py --etrack .build/release/etrack \
    --model ../shared/models/nanotrack-$v --sequences ../shared/data/sequences --report-only 2>&1 | grep -v "WARN:"
done
echo
echo "== exported models: cv2.dnn and ONNX Runtime vs our native forward on TrackerVit crops of every sequence =="
python3 scripts/compare/export_opencv_crops.py --etrack .build/release/etrack --max-frames 25 2>&1 | grep -v "WARN:" | tail -6
echo
echo "== evaluation: a run killed with SIGKILL and resumed equals an uninterrupted run =="
bash scripts/eval/kill_resume_check.sh .build/release/etrack
echo
echo "== evaluation: etrack eval score --protocol got10k vs the got10k toolkit's own report =="
python3 scripts/eval/crosscheck_got10k.py .build/release/etrack | tail -1
echo
echo "== speed: etrack vs ONNX Runtime and OpenCV (1 thread, interleaved rounds) =="
.build/release/etrack bench nanotrack --model ../shared/models/nanotrack-v2 \
  --sequence ../shared/data/sequences/OTB_Crossing --runs 50 --rounds 3
echo
echo "== speed: one-stream networks vs ONNX Runtime, tracker step vs cv2.TrackerVit (1 thread) =="
.build/release/etrack bench onestream --sequence ../shared/data/sequences/OTB_Crossing \
  --runs 20 --rounds 2 --frames 40 2>/dev/null
