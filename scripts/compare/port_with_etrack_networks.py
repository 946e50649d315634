#!/usr/bin/env python3
"""Does etrack's tracker arithmetic equal OpenCV's? Run OpenCV's TrackerNano algorithm (the float32
port in nanotrack_ort_port.py, identical to cv2.TrackerNano where the networks agree) with etrack's
own network outputs (`etrack onnx run` per crop), and compare with `etrack track` box for box.

If every box is identical, any difference between etrack and cv2.TrackerNano comes from the
networks' float rounding (cv2.dnn vs our kernels), not from the tracker.

Usage: port_with_etrack_networks.py --model ../shared/models/nanotrack-v2 \
           --sequence ../shared/data/sequences/OTB_FaceOcc1 [--frames 300] [--etrack .build/release/etrack]
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nanotrack_ort_port as port_mod  # noqa: E402
import opencv_nanotrack as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sequence", required=True)
    ap.add_argument("--frames", type=int, default=0)
    ap.add_argument("--etrack", default=".build/release/etrack")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="etrack-port-")

    def run_ours(path, feeds):
        args = [a.etrack, "onnx", "run", "--model", path, "--output-dir", work]
        for k, v in feeds.items():
            f = os.path.join(work, f"in_{k}.f32")
            v.astype("<f4").tofile(f)
            args += ["--input", f"{k}={f}:" + "x".join(map(str, v.shape))]
        subprocess.run(args, check=True, capture_output=True)

    class Port(port_mod.Port):
        def features(self, patch):
            blob = cv2.dnn.blobFromImage(patch, 1.0, swapRB=True)
            run_ours(os.path.join(a.model, "backbone.onnx"), {"input": blob})
            side = 16 if blob.shape[2] > 200 else 8
            return np.fromfile(os.path.join(work, "output.f32"), "<f4").reshape(1, -1, side, side)

    class Head:
        def run(self, names, feeds):
            run_ours(os.path.join(a.model, "head.onnx"), feeds)
            return [np.fromfile(os.path.join(work, n + ".f32"), "<f4").reshape(1, -1, 16, 16) for n in names]

    port = Port(a.model)
    port.hd = Head()
    box = ref.first_box(a.sequence)
    files = sorted(glob.glob(os.path.join(a.sequence, "img", "*")))
    files = files[:a.frames] if a.frames else files
    boxes = [box]
    for i, f in enumerate(files):
        img = cv2.imread(f)
        if i == 0:
            port.init(img, box)
        else:
            boxes.append(port.update(img))
    ours, _ = ref.run_etrack(a.etrack, a.sequence, a.model, box, None)
    same = sum(1 for p, e in zip(boxes, ours) if [float(x) for x in p] == e)
    print(f"{os.path.basename(a.sequence)}: OpenCV's algorithm on etrack's network outputs vs etrack track: "
          f"{same}/{len(boxes)} identical boxes")
    sys.exit(0 if same == len(boxes) else 1)


if __name__ == "__main__":
    main()
