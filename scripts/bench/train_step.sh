#!/usr/bin/env bash
# The training step of `etrack bench train` against the same step in PyTorch, side by side in one
# run (each measurement in its own process, so peak memory is its own), printed as ratios.
#   bash scripts/bench/train_step.sh [MODELS] [THREADS] [BATCH] [STEPS]
# Needs a release build (swift build -c release --product etrack) and the PyTorch venv of
# scripts/setup_torch.sh (torch 2.13.0+cpu), or ETRACK_TORCH_PYTHON pointing at a python with torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
models=${1:-et-128-fgaf3-bn,et-256-fgaf3}
threads=${2:-1,2}
batch=${3:-32}
steps=${4:-5}
py=${ETRACK_TORCH_PYTHON:-$HOME/.cache/etrack/torch-2.13.0-cpu/bin/python}
etrack=.build/release/etrack
"$py" -c "import torch" 2>/dev/null || { echo "no PyTorch at $py: run bash scripts/setup_torch.sh" >&2; exit 1; }
out=$(mktemp)
for m in ${models//,/ }; do
  for t in ${threads//,/ }; do
    # Alternate: ours, then PyTorch, for each (model, threads).
    "$etrack" bench train --model "$m" --batch-size "$batch" --threads "$t" --steps "$steps" --single | tail -1 | sed 's/^/ours /' >> "$out"
    "$py" scripts/bench/train_step_torch.py --model "$m" --batch "$batch" --threads "$t" --steps "$steps" | tail -1 | sed 's/^/torch /' >> "$out"
  done
done
python3 - "$out" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    who, doc = line.split(" ", 1)
    d = json.loads(doc)
    rows.setdefault((d["model"].split("@")[0], d["threads"]), {})[who] = d
print(f"{'model':18} {'threads':>7} {'ours samples/s':>15} {'torch samples/s':>16} {'ratio':>6} {'ours MB':>8} {'torch MB':>9}")
for (m, t), r in rows.items():
    o, p = r["ours"], r["torch"]
    print(f"{m:18} {t:7d} {o['samples_per_s']:15.1f} {p['samples_per_s']:16.1f} {o['samples_per_s'] / p['samples_per_s']:6.2f} "
          f"{o['peak_rss_mb']:8.0f} {p['peak_rss_mb']:9.0f}")
print(f"(torch: {next(iter(rows.values()))['torch']['runtime']}; batch {next(iter(rows.values()))['ours']['batch']})")
PY
rm -f "$out"
