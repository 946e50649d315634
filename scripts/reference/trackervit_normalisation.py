#!/usr/bin/env python3
"""Measure the per-plane normalisation cv2.TrackerVit applies to its crops, through the tracker.

Probe models (trackervit_models.build) add w x (the cell mean of ONE normalised search plane k)
to a score map that is 4 at cell (8, 8) and 0 elsewhere, so on a uniform frame the tracking score
is (4 + w*v_k)*hann(8)^2, with v_k the value cv2 put in plane k. For a set of uniform BGR colours
the script recovers v_k, fits v_k = a_k0*B + a_k1*G + a_k2*R + b_k by least squares and prints
the per-plane multiplier a_kk (and the cross terms) and the subtracted mean -b_k/a_kk, next to
  documented: multiply 1/(255 s_k), subtract 255 m_k, and
  quaternion:  multiply (1/s as a cv::Scalar quotient, i.e. conj(s)/|s|^2)_k / 255, subtract 255 m_k.
It does this for the default statistics and for a second, non-ImageNet mean/std pair.

Usage: trackervit_normalisation.py [--json]
"""
import argparse
import json
import os
import sys
import tempfile

import cv2
import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trackervit_models import S, build  # noqa: E402

BASE = 4.0


def hann(M=S):
    return np.array([np.float32(0.5) * (np.float32(1) - np.cos(np.float32(2 * np.pi / (M + 1)) * np.float32(i + 1)))
                     for i in range(M)], np.float32)


def quaternion_scale(std):
    """cv::Scalar's 1.0 / s (conj(s) * (1/|s|^2)), then * (1/255.0): OpenCV's double arithmetic."""
    s = list(std) + [0.0] * (4 - len(std))
    n = 1.0 / (s[0] * s[0] + s[1] * s[1] + s[2] * s[2] + s[3] * s[3])
    conj = [s[0], -s[1], -s[2], -s[3]]
    return [c * n * (1 / 255.0) for c in conj[:3]]


def measure(paths, colours, mean=None, std=None):
    """v[c, k]: the value of plane k for colour c, recovered from getTrackingScore."""
    w88 = float(hann()[8]) ** 2
    v = np.zeros((len(colours), 3))
    for ci, bgr in enumerate(colours):
        frame = np.empty((480, 640, 3), np.uint8)
        frame[:] = bgr
        for k, path in enumerate(paths):
            p = cv2.TrackerVit_Params()
            p.net = path
            if mean is not None:
                p.meanvalue = tuple(mean) + (0.0,)
                p.stdvalue = tuple(std) + (0.0,)
            t = cv2.TrackerVit_create(p)
            t.init(frame, (270, 190, 100, 100))  # search window 400x400 at (120, 40): inside the frame
            t.update(frame)
            v[ci, k] = t.getTrackingScore() / w88 - BASE
    return v


def fit(colours, v):
    X = np.hstack([np.asarray(colours, np.float64), np.ones((len(colours), 1))])
    coef, res, *_ = np.linalg.lstsq(X, v, rcond=None)
    residual = np.abs(X @ coef - v).max()
    return coef, residual  # coef[j, k]: d v_k / d plane j (j = 0..2), coef[3, k]: intercept


def real_frame_check(path, frame, box, mean, std):
    """getTrackingScore on a real frame against cv2.dnn on blobFromImageWithParams of the same
    search crop with (a) the quaternion multipliers and (b) the documented ones: (a) must be equal."""
    p = cv2.TrackerVit_Params()
    p.net = path
    t = cv2.TrackerVit_create(p)
    t.init(frame, box)
    t.update(frame)
    x, y, w, h = box
    side = int(np.ceil(np.sqrt(w * h) * 4))
    x1, y1 = x + int((w - side) / 2), y + int((h - side) / 2)  # C division truncates
    assert x1 >= 0 and y1 >= 0 and x1 + side < frame.shape[1] and y1 + side < frame.shape[0]
    crop = cv2.resize(frame[y1:y1 + side, x1:x1 + side], (256, 256))
    hn = hann()
    window = hn[:, None] * hn[None, :]
    scores = []
    for multiply in (quaternion_scale(std), [1 / (255 * s) for s in std]):
        bp = cv2.dnn.Image2BlobParams()
        bp.scalefactor = tuple(multiply) + (1.0,)
        bp.mean = tuple(m * 255.0 for m in mean) + (0.0,)
        net = cv2.dnn.readNet(path)
        net.setInput(np.zeros((1, 3, 128, 128), np.float32), "template")
        net.setInput(cv2.dnn.blobFromImageWithParams(crop, bp), "search")
        scores.append(float((net.forward("output1").reshape(S, S) * window).max()))
    return t.getTrackingScore(), scores[0], scores[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # errors only: no "Targets are not supported" warning per tracker
    rng = np.random.default_rng(7)
    colours = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255), (124, 116, 104)]
    colours += [tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(10)]
    peakmap = np.zeros((S, S), np.float32)
    peakmap[8, 8] = BASE
    report = {}
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for k in range(3):
            w = [0.0, 0.0, 0.0]
            w[k] = 1.0
            path = os.path.join(d, f"plane{k}.onnx")
            onnx.save(build(f"plane{k}", peakmap, (0.25, 0.25), (0.0, 0.0), score_weights=w), path)
            paths.append(path)
        mixed = os.path.join(d, "mixed.onnx")
        mixedmap = np.full((S, S), 0.1, np.float32)
        mixedmap[8, 8] = 0.6
        onnx.save(build("mixed", mixedmap, (0.25, 0.25), (0.0, 0.0), score_weights=(0.3, -0.2, 0.1)), mixed)
        here = os.path.dirname(os.path.abspath(__file__))
        frame = cv2.imread(os.path.join(here, "..", "..", "..", "shared", "data", "sequences", "VOT_bag", "img", "00000001.jpg"))
        if frame is not None:
            tracker, quat, doc = real_frame_check(mixed, frame, (200, 140, 50, 40), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
            report["real_frame"] = dict(tracker=tracker, dnn_quaternion=quat, dnn_documented=doc)
            if not a.json:
                print(f"VOT_bag frame 1, mixed-plane probe: TrackerVit score {tracker!r}; cv2.dnn on the same crop with the"
                      f" quaternion multipliers {quat!r} ({'equal' if quat == tracker else 'DIFFERENT'}),"
                      f" with the documented ones {doc!r}")
        for label, mean, std in (("imagenet", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
                                 ("other", (0.1, 0.5, 0.9), (0.5, 0.25, 0.125))):
            v = measure(paths, colours, mean, std)
            coef, residual = fit(colours, v)
            scale = [coef[k, k] for k in range(3)]
            cross = max(abs(coef[j, k]) for j in range(3) for k in range(3) if j != k)
            subtract = [-coef[3, k] / coef[k, k] for k in range(3)]
            quat = quaternion_scale(std)
            doc = [1 / (255 * s) for s in std]
            report[label] = dict(mean=mean, std=std, measured_multiply=scale, measured_subtract=subtract,
                                 largest_cross_term=cross, fit_residual=residual,
                                 quaternion_multiply=quat, documented_multiply=doc,
                                 documented_subtract=[255 * m for m in mean])
            if not a.json:
                print(f"{label}: mean {mean} std {std}")
                for k in range(3):
                    print(f"  plane {k}: multiply {scale[k]:+.7f} (x255 = {scale[k] * 255:+.5f}; quaternion {quat[k] * 255:+.5f},"
                          f" documented {doc[k] * 255:+.5f}; ratio to documented {scale[k] / doc[k]:+.4f})"
                          f"  subtract {subtract[k]:.3f} (255 m = {255 * mean[k]:.3f})")
                print(f"  largest cross-plane term {cross:.2e}, fit residual {residual:.2e} (float32 score noise ~1e-6)")
    if a.json:
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
