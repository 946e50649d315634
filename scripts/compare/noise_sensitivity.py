#!/usr/bin/env python3
"""How sensitive is cv2.TrackerNano's trajectory to float noise in the networks?

Runs OpenCV's own TrackerNano algorithm (the float32 port in nanotrack_ort_port.py, ONNX Runtime
networks) with the backbone features multiplied by (1 + eps * N(0,1)) for several seeds, and
compares each run's boxes with cv2.TrackerNano. eps defaults to 1e-6, the size of the difference
between cv2.dnn and ONNX Runtime on these networks. Where some seeds part from OpenCV, any
implementation whose networks are not bit-identical to cv2.dnn can part from it too.

Usage: noise_sensitivity.py --model ../shared/models/nanotrack-v2 --sequence ../shared/data/sequences/OTB_FaceOcc1 [--seeds 5] [--eps 1e-6]
"""
import argparse
import glob
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nanotrack_ort_port as port_mod  # noqa: E402
import opencv_nanotrack as ref  # noqa: E402


def noisy_boxes(model, frames, box, seed, eps=1e-6):
    """OpenCV's TrackerNano algorithm (of the cv2 in use) on decoded frames, with the backbone
    features multiplied by (1 + eps * N(0,1)) from a seeded generator: one box per frame."""
    rng = np.random.default_rng(seed)
    port = port_mod.Port(model)
    clean = port.features
    port.features = lambda p, f=clean: (lambda x: x * (1 + eps * rng.standard_normal(x.shape)).astype(np.float32))(f(p))
    return port.track(frames, box)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sequence", required=True)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--eps", type=float, default=1e-6)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    box = ref.first_box(a.sequence)
    ob, _ = ref.run_opencv(a.sequence, a.model, box)
    frames = [cv2.imread(f) for f in sorted(glob.glob(os.path.join(a.sequence, "img", "*")))]
    for seed in range(a.seeds):
        pb = noisy_boxes(a.model, frames, box, seed, a.eps)
        ious = [ref.iou(x, y) for x, y in zip(ob, pb)]
        first = ref.first_difference(ob, pb)
        print(f"seed {seed}: mean IoU vs cv2.TrackerNano {np.mean(ious):.4f}, IoU>=0.9 on {np.mean([v >= 0.9 for v in ious]):.3f}, first differing frame {first}")


if __name__ == "__main__":
    main()
