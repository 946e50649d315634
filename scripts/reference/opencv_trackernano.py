#!/usr/bin/env python3
"""Run OpenCV's cv2.TrackerNano (1 thread) on a sequence folder and print one x,y,w,h line per frame.

Usage: opencv_trackernano.py --model DIR --sequence DIR --init x,y,w,h [--frames N]
The first line is the init box (integers, as OpenCV's Rect).
"""
import argparse
import glob
import os

import cv2

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--sequence", required=True)
ap.add_argument("--init", required=True)
ap.add_argument("--frames", type=int, default=0)
a = ap.parse_args()
cv2.setNumThreads(1)
p = cv2.TrackerNano_Params()
p.backbone = os.path.join(a.model, "backbone.onnx")
p.neckhead = os.path.join(a.model, "head.onnx")
t = cv2.TrackerNano_create(p)
box = tuple(int(float(v)) for v in a.init.split(","))
frames = sorted(glob.glob(os.path.join(a.sequence, "img", "*")))
if a.frames:
    frames = frames[:a.frames]
print(",".join(map(str, box)))
for i, f in enumerate(frames):
    img = cv2.imread(f)
    if i == 0:
        t.init(img, box)
    else:
        ok, b = t.update(img)
        print(",".join(map(str, b)))
