#!/usr/bin/env bash
# Optional: PyTorch for scripts/bench/train_step.sh (the training-speed comparison). CI does not
# need it. Pinned: torch 2.13.0+cpu (the CPU-only wheel; the default wheel pulls CUDA libraries).
set -euo pipefail
venv=$HOME/.cache/etrack/torch-2.13.0-cpu
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "torch==2.13.0+cpu" "numpy<3"
"$venv/bin/python" -c "import torch; print('torch', torch.__version__, 'at', '$venv')"
