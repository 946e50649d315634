#!/usr/bin/env python3
"""Peer timings for `etrack bench nanotrack`: ONNX Runtime networks or OpenCV's TrackerNano.

Run one runtime per process (two thread pools in one process disturb each other on 2 cores).
Prints one JSON object {metric: [seconds, ...]} on stdout.

  nanotrack_peers.py --what ort --model DIR --runs N
      backbone_127, backbone_255, head, search_step: ORT CPUExecutionProvider, 1 intra-op thread,
      ORT_ENABLE_ALL, uniform 0..255 inputs; the backbone's input dims are made symbolic so it
      also runs at 127 (ORT rejects 127 on the declared 255 otherwise).
  nanotrack_peers.py --what opencv --model DIR --sequence DIR [--frames N]
      update: cv2.TrackerNano.update per frame, 1 thread, frames decoded before timing.
"""
import argparse
import glob
import json
import os
import time

import numpy as np


def ort_times(model, runs, warmup=20):
    import onnx
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    m = onnx.load(os.path.join(model, "backbone.onnx"))
    for d, n in zip(m.graph.input[0].type.tensor_type.shape.dim[2:], ["H", "W"]):
        d.dim_param = n
    bb = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    hd = ort.InferenceSession(os.path.join(model, "head.onnx"), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    x127 = rng.integers(0, 256, (1, 3, 127, 127)).astype(np.float32)
    x255 = rng.integers(0, 256, (1, 3, 255, 255)).astype(np.float32)
    name = bb.get_inputs()[0].name
    z = bb.run(None, {name: x127})[0]
    x = bb.run(None, {name: x255})[0]

    def t(f):
        for _ in range(warmup):
            f()
        out = []
        for _ in range(runs):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
        return out

    return {
        "backbone_127": t(lambda: bb.run(None, {name: x127})),
        "backbone_255": t(lambda: bb.run(None, {name: x255})),
        "head": t(lambda: hd.run(None, {"input1": z, "input2": x})),
        "search_step": t(lambda: hd.run(None, {"input1": z, "input2": bb.run(None, {name: x255})[0]})),
        "version": "onnxruntime " + ort.__version__,
    }


def opencv_times(model, sequence, frames):
    import cv2
    cv2.setNumThreads(1)
    p = cv2.TrackerNano_Params()
    p.backbone = os.path.join(model, "backbone.onnx")
    p.neckhead = os.path.join(model, "head.onnx")
    tr = cv2.TrackerNano_create(p)
    files = sorted(glob.glob(os.path.join(sequence, "img", "*")))[:frames or None]
    imgs = [cv2.imread(f) for f in files]
    gt = open(os.path.join(sequence, "groundtruth.txt")).readline().replace("\t", ",").split(",")
    box = tuple(int(float(v)) for v in gt)
    tr.init(imgs[0], box)
    out = []
    for im in imgs[1:]:
        t0 = time.perf_counter()
        tr.update(im)
        out.append(time.perf_counter() - t0)
    return {"update": out, "version": "OpenCV " + cv2.__version__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--what", choices=["ort", "opencv"], required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--sequence")
    ap.add_argument("--frames", type=int, default=0)
    a = ap.parse_args()
    r = ort_times(a.model, a.runs) if a.what == "ort" else opencv_times(a.model, a.sequence, a.frames)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
