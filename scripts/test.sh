#!/usr/bin/env bash
# The test command: the Swift test suite in release (numeric code is 10-100x slower in debug)
# against the pinned OpenCV of scripts/requirements-reference.txt, then box parity with every
# supported OpenCV release (scripts/compare/opencv_versions.sh), then the reference comparisons
# that print parity and speed against ONNX Runtime and OpenCV.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every `python3` below (and in the Swift tests and `etrack bench`) is the pinned reference
# environment, whatever cv2 the machine has installed.
PINNED_PYTHON="$(bash scripts/compare/opencv_versions.sh --environment)"
export PATH="$(dirname "$PINNED_PYTHON"):$PATH"
echo "reference Python: $(command -v python3) ($(python3 -c 'import cv2, onnxruntime; print("OpenCV", cv2.__version__, "/ ONNX Runtime", onnxruntime.__version__)'))"
swift build -c release --product etrack
swift test -c release
echo
echo "== ONNX conformance: the ONNX project's node tests (pinned onnx) through etrack onnx run; fails if a baseline test stops passing =="
python3 scripts/onnx_conformance/node_suite.py --etrack .build/release/etrack --jobs 2 --quiet \
  --baseline scripts/onnx_conformance/baseline.json
echo
echo "== box parity with every supported OpenCV release (one pinned, cached environment each) =="
bash scripts/compare/opencv_versions.sh --etrack .build/release/etrack
echo
echo "== exported models: cv2.dnn and ONNX Runtime vs our native forward on TrackerVit crops of every sequence =="
python3 scripts/compare/export_opencv_crops.py --etrack .build/release/etrack --max-frames 25 2>&1 | grep -v "WARN:" | tail -6
echo
echo "== a trained model: etrack train (30 steps on one sequence), exported, in cv2.dnn and ONNX Runtime vs our native forward =="
trained="$(mktemp -d)"
.build/release/etrack train --model "et-128-fgaf3-bn@channels=64,depth=1,headChannels=32" --data folder:../shared/data/sequences/DAVIS_car-shadow \
  --steps 30 --batch-size 8 --lr 1e-3 --threads 2 --out "$trained/run" 2>&1 | tail -2
python3 scripts/compare/export_opencv_crops.py --etrack .build/release/etrack --max-frames 25 \
  --models "$trained/run/model.safetensors" 2>&1 | grep -v "WARN:" | tail -3
echo "-- the same trained model tracked by cv2.TrackerVit and by etrack track --mode opencv (exported ONNX and the weights file) --"
python3 scripts/compare/trained_trackervit.py --etrack .build/release/etrack --weights "$trained/run/model.safetensors" 2>&1 \
  | grep -v "WARN:" | grep -E "FAIL|first difference|: \[|vs cv2.TrackerVit"
rm -rf "$trained"
echo
echo "== evaluation: a run killed with SIGKILL and resumed equals an uninterrupted run =="
bash scripts/eval/kill_resume_check.sh .build/release/etrack
echo
echo "== hardening: SIGKILL at random points of track, eval run, export and train (20 each); resumed results equal uninterrupted ones =="
python3 scripts/hardening/kill_test.py --etrack .build/release/etrack --kills 20
echo
echo "== hardening: libFuzzer + AddressSanitizer over every reader of user bytes (short pass; Fuzz/README.md) =="
FUZZ_SEED=1 bash scripts/hardening/fuzz.sh 20000
echo
echo "== hardening: ThreadSanitizer over eval run with several jobs and tracker thread pools =="
bash scripts/hardening/tsan.sh ../shared 2>&1 | grep -v "^Fetch\|^Comput\|^Creat\|^Working"
echo
echo "== hardening: soak, 10k frames and 1000 re-initialisations per tracker kind, resident memory flat =="
.build/release/etrack bench soak --models ../shared/models/nanotrack-v2,et-128-fgaf3-bn \
  --sequence ../shared/data/sequences/OTB_Crossing --frames 10000 --cycles 1000 2>/dev/null
echo
echo "== hardening: lost-target honesty on sequences with absences (a measurement; docs/hardening.md) =="
python3 scripts/hardening/lost_target.py --etrack .build/release/etrack
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
