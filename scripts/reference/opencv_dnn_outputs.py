#!/usr/bin/env python3
"""How much do cv2.dnn's outputs move between OpenCV releases? Runs the NanoTrack v1/v2 backbones
(127 template and 255 search crops) and heads of cv2.dnn on crops of shared frames and saves
them; --compare prints the largest relative difference between two saved runs.

Usage: PYTHON_OF_RELEASE_A opencv_dnn_outputs.py --save a.npz --models ../shared/models --frames ../shared/data/sequences/OTB_Crossing/img
       PYTHON_OF_RELEASE_B opencv_dnn_outputs.py --save b.npz ...
       python3 opencv_dnn_outputs.py --compare a.npz b.npz
"""
import argparse
import glob
import os

import numpy as np


def run(models, frames, limit):
    import cv2
    cv2.setNumThreads(1)
    out = {}
    paths = sorted(glob.glob(os.path.join(frames, "*.jpg")))[:limit]
    for v in ("nanotrack-v1", "nanotrack-v2"):
        backbone = cv2.dnn.readNet(os.path.join(models, v, "backbone.onnx"))
        head = cv2.dnn.readNet(os.path.join(models, v, "head.onnx"))
        for i, p in enumerate(paths):
            img = cv2.imread(p)
            feats = []
            for side in (127, 255):
                backbone.setInput(cv2.dnn.blobFromImage(cv2.resize(img, (side, side)), 1.0, swapRB=True))
                feats.append(backbone.forward())
                out[f"{v}/{i}/backbone{side}"] = feats[-1]
            head.setInput(feats[0], "input1")
            head.setInput(feats[1], "input2")
            for name, value in zip(("output1", "output2"), head.forward(["output1", "output2"])):
                out[f"{v}/{i}/head/{name}"] = value
    return cv2.__version__, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--save")
    ap.add_argument("--models", default="../shared/models")
    ap.add_argument("--frames", default="../shared/data/sequences/OTB_Crossing/img")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--compare", nargs=2)
    a = ap.parse_args()
    if a.save:
        version, out = run(a.models, a.frames, a.limit)
        np.savez(a.save, __version__=np.array(version), **out)
        print(f"OpenCV {version}: {len(out)} outputs -> {a.save}")
    if a.compare:
        x, y = np.load(a.compare[0]), np.load(a.compare[1])
        worst, where = 0.0, None
        for k in x.files:
            if k == "__version__":
                continue
            d = float(np.max(np.abs(x[k] - y[k])) / max(float(np.max(np.abs(x[k]))), 1e-30))
            if d > worst:
                worst, where = d, k
        print(f"cv2.dnn OpenCV {x['__version__']} vs {y['__version__']}: worst relative difference {worst:.2e} ({where}), {len(x.files) - 1} outputs")


if __name__ == "__main__":
    main()
