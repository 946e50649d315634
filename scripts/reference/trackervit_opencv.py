#!/usr/bin/env python3
"""Run OpenCV's cv2.TrackerVit (1 thread, default mean/std/threshold) on a sequence folder, one
tracker per model, all on the same decoded frames.

Usage: trackervit_opencv.py --models A.onnx,B.onnx --sequence DIR --init x,y,w,h
                            [--frames N] [--black FIRST:END]

Prints one line per model and frame: `NAME FRAME STATUS x y w h score`, where STATUS is `init`
(frame 0, the integer init box), `ok` (update returned True), `lost` (update returned False; the
box is OpenCV's unchanged output box) or `error` (OpenCV threw; the tracker is dropped and no box
follows). `--black` replaces frames FIRST..END-1 by black frames of the same size.
"""
import argparse
import glob
import os

import cv2

ap = argparse.ArgumentParser()
ap.add_argument("--models", required=True)
ap.add_argument("--sequence", required=True)
ap.add_argument("--init", required=True)
ap.add_argument("--frames", type=int, default=0)
ap.add_argument("--black", default="")
a = ap.parse_args()
cv2.setNumThreads(1)
black = range(*map(int, a.black.split(":"))) if a.black else range(0)
box = tuple(int(float(v)) for v in a.init.split(","))
frames = sorted(glob.glob(os.path.join(a.sequence, "img", "*.jpg")))
if a.frames:
    frames = frames[:a.frames]
trackers = []
for path in a.models.split(","):
    p = cv2.TrackerVit_Params()
    p.net = path
    trackers.append([os.path.splitext(os.path.basename(path))[0], cv2.TrackerVit_create(p)])
out = []
for i, f in enumerate(frames):
    img = cv2.imread(f)
    if i in black:
        img[:] = 0
    for entry in trackers:
        name, t = entry
        if t is None:
            continue
        try:
            if i == 0:
                t.init(img, box)
                out.append(f"{name} 0 init {box[0]} {box[1]} {box[2]} {box[3]} 0")
            else:
                ok, b = t.update(img)
                out.append(f"{name} {i} {'ok' if ok else 'lost'} {b[0]} {b[1]} {b[2]} {b[3]} {t.getTrackingScore()!r}")
        except cv2.error:
            out.append(f"{name} {i} error")
            entry[1] = None
print("\n".join(out))
