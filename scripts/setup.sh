#!/usr/bin/env bash
# Installs what EfficientTrack needs on a fresh Debian/Ubuntu machine with Swift:
#   system libraries: pkg-config, libturbojpeg (JPEG), libpng (PNG), ffmpeg (video), librsvg2-bin (PNG plots);
#   Python packages for the reference comparisons and benchmarks: onnxruntime, opencv-python-headless,
#   numpy, onnx (and got10k + six for the evaluation cross-check).
# Safe to run again. Set ETRACK_SKIP_PIP=1 to skip the Python packages (the toolkit itself needs none).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    pkg-config libturbojpeg0-dev libjpeg-dev libpng-dev ffmpeg librsvg2-bin python3-pip >/dev/null
elif command -v brew >/dev/null; then
  brew install jpeg-turbo libpng ffmpeg librsvg pkg-config
else
  echo "setup.sh: install libturbojpeg, libpng, ffmpeg and pkg-config with your package manager" >&2
fi
if [ "${ETRACK_SKIP_PIP:-0}" != "1" ]; then
  python3 -m pip install -q --disable-pip-version-check onnxruntime opencv-python-headless numpy onnx got10k six safetensors 2>&1 \
    | grep -v "WARNING: Running pip as the 'root' user" || true
  python3 -c "import onnxruntime, cv2, numpy, onnx" || { echo "setup.sh: the Python reference packages did not install" >&2; exit 1; }
fi
echo "setup.sh: done"
