#!/usr/bin/env python3
"""OpenCV reference outputs for the ETImage tests.

Usage: image_reference.py DIR

Reads DIR/request.json, a list of tasks, and writes each task's outputs into DIR. Pixel data
travel as raw uint8 HWC files (no header); sizes are in the JSON. Tasks ("op"):

  crop_resize  frame (raw file), fw, fh, c, x, y, w, h, pad (list), ow, oh, out (raw file)
               = cv2.resize(cv2.copyMakeBorder(frame, top, bottom, left, right,
                            BORDER_CONSTANT, value=pad)[roi], (ow, oh), INTER_LINEAR)
  imread       path, out (raw RGB file), meta (json file: width, height)
               = cv2.imread(path, IMREAD_COLOR) converted BGR -> RGB
  mean         frame, fw, fh, c, out (json list) = cv2.mean(frame)[:c]
  border_value value (list of floats), c, out (json list of the uint8 copyMakeBorder writes)
  blob         frame, fw, fh, c, swap_rb, scale, mean (list), std (list or null), out (raw float32)
               = cv2.dnn.blobFromImageWithParams with Image2BlobParams(scalefactor, size,
                 mean, swapRB, CV_32F, DNN_LAYOUT_NCHW), scalefactor = scale / std
  png16        fw, fh, seed, path (16-bit RGB PNG to write), out (raw RGB of cv2.imread of it)
  video        path, out (raw file of all frames, RGB), meta (json: width, height, count, fps)
               = frames of cv2.VideoCapture(path) converted BGR -> RGB
"""
import json
import os
import sys

import cv2
import numpy as np


def load_frame(d, t):
    a = np.fromfile(os.path.join(d, t["frame"]), dtype=np.uint8)
    return a.reshape(t["fh"], t["fw"], t["c"])


def crop_resize(d, t):
    img = load_frame(d, t)
    fh, fw = img.shape[:2]
    x, y, w, h = t["x"], t["y"], t["w"], t["h"]
    left, top = max(0, -x), max(0, -y)
    right, bottom = max(0, x + w - fw), max(0, y + h - fh)
    pad = [float(v) for v in t["pad"]]
    if left or top or right or bottom:
        img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=pad)
    roi = img[y + top:y + top + h, x + left:x + left + w]
    out = cv2.resize(roi, (t["ow"], t["oh"]), interpolation=cv2.INTER_LINEAR)
    np.ascontiguousarray(out).tofile(os.path.join(d, t["out"]))


def imread(d, t):
    img = cv2.imread(t["path"], cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit("cv2.imread failed: " + t["path"])
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    rgb.tofile(os.path.join(d, t["out"]))
    with open(os.path.join(d, t["meta"]), "w") as f:
        json.dump({"width": rgb.shape[1], "height": rgb.shape[0]}, f)


def mean(d, t):
    m = cv2.mean(load_frame(d, t))[: t["c"]]
    with open(os.path.join(d, t["out"]), "w") as f:
        json.dump([float(v) for v in m], f)


def border_value(d, t):
    img = np.zeros((1, 1, t["c"]), np.uint8)
    out = cv2.copyMakeBorder(img, 1, 0, 0, 0, cv2.BORDER_CONSTANT, value=t["value"])
    with open(os.path.join(d, t["out"]), "w") as f:
        json.dump([int(v) for v in out[0, 0].reshape(-1)], f)


def blob(d, t):
    img = load_frame(d, t)
    c = t["c"]
    std = t["std"] or [1.0] * c
    mean_ = t["mean"] or [0.0] * c
    params = cv2.dnn.Image2BlobParams()
    params.scalefactor = tuple(t["scale"] / s for s in std) + (1.0,) * (4 - c)
    params.mean = tuple(mean_) + (0.0,) * (4 - c)
    params.swapRB = bool(t["swap_rb"])
    params.ddepth = cv2.CV_32F
    params.datalayout = getattr(cv2, "DATA_LAYOUT_NCHW", None) or cv2.dnn.DNN_LAYOUT_NCHW
    out = cv2.dnn.blobFromImageWithParams(img, params)
    np.ascontiguousarray(out, dtype=np.float32).tofile(os.path.join(d, t["out"]))


def video(d, t):
    cap = cv2.VideoCapture(t["path"])
    if not cap.isOpened():
        raise SystemExit("cv2.VideoCapture failed: " + t["path"])
    fps = cap.get(cv2.CAP_PROP_FPS)
    count, width, height = 0, 0, 0
    with open(os.path.join(d, t["out"]), "wb") as f:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            height, width = frame.shape[:2]
            cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).tofile(f)
            count += 1
    with open(os.path.join(d, t["meta"]), "w") as f:
        json.dump({"width": width, "height": height, "count": count, "fps": fps}, f)


def png16(d, t):
    rng = np.random.default_rng(t["seed"])
    img = rng.integers(0, 65536, (t["fh"], t["fw"], 3), dtype=np.uint16)
    cv2.imwrite(t["path"], img)
    back = cv2.imread(t["path"], cv2.IMREAD_COLOR)
    cv2.cvtColor(back, cv2.COLOR_BGR2RGB).tofile(os.path.join(d, t["out"]))


OPS = {"png16": png16, "crop_resize": crop_resize, "imread": imread, "mean": mean,
       "border_value": border_value, "blob": blob, "video": video}


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "request.json")) as f:
        tasks = json.load(f)
    for t in tasks:
        OPS[t["op"]](d, t)


if __name__ == "__main__":
    main()
