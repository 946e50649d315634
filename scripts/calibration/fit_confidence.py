#!/usr/bin/env python3
"""Fit NanoTrack's confidence calibration (ConfidenceCalibration.builtIn) and report how it separates
present from absent targets.

Data: for each shared sequence, the first half is "present"; the second half is rewritten three
ways to make the target absent: black frames, the target painted over with the frame mean (box plus
half its size on each side), and the frame replaced by the half that does not hold the target,
stretched to full size (the target has left the view). `etrack track --diagnostics` gives per
frame the peak probability, PSR and template similarity; a class-balanced logistic regression on
[logit(p), ln(max(PSR, 0.1)), similarity] gives the coefficients.

Usage: fit_confidence.py [--etrack .build/release/etrack] [--models ../shared/models]
                         [--sequences ../shared/data/sequences] [--work /tmp/etrack-calibration]
                         [--modes opencv,corrected] [--opencv-version 5.1]
Prints, per model and mode, the coefficients, the lost-vs-present ROC AUC (in-sample), and the
share of frames in each state at the default thresholds (tracking >= 0.5, lost < 0.2).
"""
import argparse
import glob
import os
import subprocess

import cv2
import numpy as np

SEQUENCES = ["OTB_Crossing", "OTB_MotorRolling", "UAV123_10fps_person12_1", "VOT_bag", "DAVIS_car-shadow",
             "OTB_Human3_first199", "UAV123_10fps_boat1", "OTB_FaceOcc1"]
KINDS = ["black", "painted", "cropped"]


def make_absent(src, dst, kind):
    """Writes a copy of sequence `src` whose second half has the target removed; returns the cut index."""
    frames = sorted(glob.glob(os.path.join(src, "img", "*")))
    gt = [l.strip() for l in open(os.path.join(src, "groundtruth.txt")) if l.strip()]
    cut = len(frames) // 2
    if os.path.isdir(os.path.join(dst, "img")):
        return cut
    os.makedirs(os.path.join(dst, "img"))
    for i, f in enumerate(frames):
        im = cv2.imread(f)
        if i >= cut:
            H, W = im.shape[:2]
            x, y, w, h = [float(v) for v in gt[i].replace("\t", ",").split(",")]
            if kind == "black":
                im[:] = 0
            elif kind == "painted":
                m = int(0.5 * max(w, h))
                x, y, w, h = int(x), int(y), int(w), int(h)
                im[max(0, y - m):min(H, y + h + m), max(0, x - m):min(W, x + w + m)] = np.array(cv2.mean(im)[:3], np.uint8)
            else:
                half = im[:, :W // 2] if x + w / 2 > W / 2 else im[:, W // 2:]
                im = cv2.resize(half, (W, H))
        cv2.imwrite(os.path.join(dst, "img", f"{i + 1:08d}.png"), im)
    with open(os.path.join(dst, "groundtruth.txt"), "w") as fh:
        fh.write("\n".join(gt) + "\n")
    return cut


def signals(etrack, model, seq, mode, work, opencv_version):
    out = os.path.join(work, "out.txt")
    cmd = [etrack, "track", "--model", model, "--sequence", seq, "--output", out, "--force", "--mode", mode, "--diagnostics"]
    if mode == "opencv":
        cmd += ["--opencv-version", opencv_version]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    rows = [l.split(",") for l in open(os.path.join(work, "out_score.txt")).read().split()]
    return np.array([[float(r[0]), float(r[3]), float(r[4])] for r in rows[1:]])  # frame 1 is the init box


def features(a):
    p = np.clip(a[:, 0], 1e-6, 1 - 1e-6)
    return np.stack([np.clip(np.log(p / (1 - p)), -10, 10), np.log(np.maximum(a[:, 1], 0.1)), a[:, 2]], 1)


def fit(P, N, steps=4000):
    X = np.concatenate([features(P), features(N)])
    y = np.concatenate([np.ones(len(P)), np.zeros(len(N))])
    w = np.where(y == 1, 0.5 / len(P), 0.5 / len(N))
    mu, sd = X.mean(0), X.std(0) + 1e-12
    Z = (X - mu) / sd
    b, c = np.zeros(3), 0.0
    for _ in range(steps):
        g = 1 / (1 + np.exp(-(Z @ b + c))) - y
        b -= 2.0 * (Z * (w * g)[:, None]).sum(0) + 1e-3 * b
        c -= 2.0 * (w * g).sum()
    B = b / sd
    return B, c - (b * mu / sd).sum()


def auc(pos, neg):
    r = np.concatenate([pos, neg]).argsort().argsort() + 1
    return (r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etrack", default=".build/release/etrack")
    ap.add_argument("--models", default="../shared/models")
    ap.add_argument("--sequences", default="../shared/data/sequences")
    ap.add_argument("--work", default="/tmp/etrack-calibration")
    ap.add_argument("--modes", default="opencv,corrected")
    ap.add_argument("--opencv-version", default="5.1", help="the OpenCV release the opencv mode reproduces (each has its own coefficients)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    for v in ["v1", "v2", "v3"]:
        model = os.path.join(a.models, f"nanotrack-{v}")
        for mode in a.modes.split(","):
            P, N = [], {k: [] for k in KINDS}
            for s in SEQUENCES:
                for kind in KINDS:
                    dst = os.path.join(a.work, f"{s}_{kind}")
                    cut = make_absent(os.path.join(a.sequences, s), dst, kind)
                    sig = signals(a.etrack, model, dst, mode, a.work, a.opencv_version)
                    if kind == "black":
                        P.append(sig[:cut - 1])
                    N[kind].append(sig[cut - 1:])
            P = np.concatenate(P)
            N = {k: np.concatenate(v_) for k, v_ in N.items()}
            allN = np.concatenate(list(N.values()))
            B, C = fit(P, allN)
            conf = lambda A: 1 / (1 + np.exp(-(features(A) @ B + C)))
            cp = conf(P)
            label = f"opencv-{a.opencv_version}" if mode == "opencv" else mode
            line = (f"{v} {label:11s} weights (logit, lnPSR, similarity) {np.round(B, 4).tolist()} bias {C:.4f}  "
                    f"AUC {auc(cp, conf(allN)):.3f} (raw score alone {auc(P[:, 0], allN[:, 0]):.3f})  "
                    f"present: tracking {np.mean(cp >= 0.5):.3f} lost {np.mean(cp < 0.2):.3f}")
            for k, A in N.items():
                cn = conf(A)
                line += f" | {k}: lost {np.mean(cn < 0.2):.2f} tracking {np.mean(cn >= 0.5):.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
