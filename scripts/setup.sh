#!/usr/bin/env bash
# Installs what EfficientTrack needs on a fresh Debian/Ubuntu machine with Swift:
#   system libraries: pkg-config, libturbojpeg (JPEG), libpng (PNG), ffmpeg (video), librsvg2-bin (PNG plots);
#   Python packages for the reference comparisons and benchmarks, pinned in
#   scripts/requirements-reference.txt (opencv-python-headless, onnxruntime, onnx, numpy, safetensors,
#   got10k and what they pull in), in a cached virtual environment of their own (the machine's
#   Python packages are left alone); scripts/test.sh puts it first on PATH. The other supported
#   OpenCV releases get their own environments from scripts/compare/opencv_versions.sh.
# Safe to run again. Set ETRACK_SKIP_PIP=1 to skip the Python packages (the toolkit itself needs none).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    pkg-config libturbojpeg0-dev libjpeg-dev libpng-dev ffmpeg librsvg2-bin python3-pip python3-venv >/dev/null
elif command -v brew >/dev/null; then
  brew install jpeg-turbo libpng ffmpeg librsvg pkg-config
else
  echo "setup.sh: install libturbojpeg, libpng, ffmpeg and pkg-config with your package manager" >&2
fi
if [ "${ETRACK_SKIP_PIP:-0}" != "1" ]; then
  # A virtual environment of our own, so the user's Python packages are never changed and a newer
  # cv2 installed on the machine cannot leak into the comparisons. Cached under ~/.cache/etrack.
  python="$(bash "$(dirname "$0")/compare/opencv_versions.sh" --environment)"
  # The comparisons were written for these exact versions: say so now rather than fail later.
  "$python" - "$(dirname "$0")/requirements-reference.txt" <<'PY' || { echo "setup.sh: the pinned Python reference packages did not install" >&2; exit 1; }
import sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        got = version(name)
    except PackageNotFoundError:
        got = "missing"
    if got != want:
        bad.append(f"{name}: pinned {want}, found {got}")
if bad:
    sys.exit("setup.sh: " + "; ".join(bad))
import cv2, numpy, onnx, onnxruntime  # noqa: E401,F401
print(f"setup.sh: reference packages pinned in {sys.prefix} (OpenCV {cv2.__version__}, ONNX Runtime {onnxruntime.__version__}, onnx {onnx.__version__})")
PY
fi
echo "setup.sh: done"
