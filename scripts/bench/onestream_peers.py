#!/usr/bin/env python3
"""Peer timings for `etrack bench onestream`: ONNX Runtime on a one-stream graph, or OpenCV's TrackerVit.

One runtime per process (two thread pools in one process disturb each other on 2 cores).
Prints one JSON object {metric: [seconds, ...], "version": ...} on stdout.

  onestream_peers.py --what ort --model FILE.onnx --runs N
      network: one call with template 1x3x128x128 and search 1x3x256x256 (ORT CPUExecutionProvider,
      1 intra-op thread, ORT_ENABLE_ALL, fixed normal-ish inputs).
  onestream_peers.py --what opencv --model FILE.onnx --sequence DIR [--frames N] [--reinit K]
      update: cv2.TrackerVit.update per frame, 1 thread, frames decoded before timing. Restarts from
      the ground truth every K frames and after an exception (not timed), as etrack does.
"""
import argparse
import glob
import json
import os
import time

import numpy as np


def ort_times(model, runs, warmup=10):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    feed = {i.name: (rng.integers(-1000, 1001, [d if isinstance(d, int) else 1 for d in i.shape]) / 500).astype(np.float32)
            for i in s.get_inputs()}
    for _ in range(warmup):
        s.run(None, feed)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, feed)
        out.append(time.perf_counter() - t0)
    return {"network": out, "version": "onnxruntime " + ort.__version__}


def read_boxes(sequence):
    boxes = []
    for line in open(os.path.join(sequence, "groundtruth.txt")):
        v = [float(x) for x in line.replace("\t", ",").replace(" ", ",").split(",") if x.strip()]
        ok = len(v) == 4 and all(np.isfinite(v)) and v[2] >= 1 and v[3] >= 1
        boxes.append(tuple(int(x) for x in v) if ok else None)
    return boxes


def opencv_times(model, sequence, frames, reinit):
    import cv2
    cv2.setNumThreads(1)
    p = cv2.TrackerVit_Params()
    p.net = model
    tr = cv2.TrackerVit_create(p)
    files = sorted(glob.glob(os.path.join(sequence, "img", "*")))[:frames or None]
    imgs = [cv2.imread(f) for f in files]
    boxes = read_boxes(sequence)
    out, need = [], True
    for i, im in enumerate(imgs):
        if need or (reinit > 0 and i % reinit == 0):
            if i >= len(boxes) or boxes[i] is None:
                continue
            tr.init(im, boxes[i])
            need = False
            continue
        t0 = time.perf_counter()
        try:
            tr.update(im)
            out.append(time.perf_counter() - t0)
        except cv2.error:
            need = True
    return {"update": out, "version": "OpenCV " + cv2.__version__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--what", choices=["ort", "opencv"], required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--sequence")
    ap.add_argument("--frames", type=int, default=0)
    ap.add_argument("--reinit", type=int, default=10)
    a = ap.parse_args()
    r = ort_times(a.model, a.runs) if a.what == "ort" else opencv_times(a.model, a.sequence, a.frames, a.reinit)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
