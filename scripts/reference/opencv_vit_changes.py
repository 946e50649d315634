#!/usr/bin/env python3
"""Which of OpenCV 5.1's two TrackerVit changes matter, measured through the tracker: `etrack track
--mode opencv` reproducing 5.0 and 5.1 against the cv2.TrackerVit of the installed OpenCV, with
the fixed-map models of trackervit_models.py (their maps ignore the pixels, so only the box
arithmetic, i.e. the clip, can part them) and the pixel-dependent ones (which the normalisation
parts too), on every shared sequence.

Prints per model and etrack release: sequences identical to cv2 on every frame (boxes, and where
cv2 reports lost or throws, the same), and the first differing frame of the others.

Usage: opencv_vit_changes.py --etrack .build/release/etrack --sequences ../shared/data/sequences
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import cv2

HERE = os.path.dirname(os.path.abspath(__file__))


def opencv_boxes(model, seq, box):
    """cv2.TrackerVit per frame: the box it reports (kept box when lost), or None from where it threw."""
    p = cv2.TrackerVit_Params()
    p.net = model
    t = cv2.TrackerVit_create(p)
    out = [list(box)]
    last = list(box)
    for i, f in enumerate(sorted(glob.glob(os.path.join(seq, "img", "*.jpg")))):
        img = cv2.imread(f)
        if i == 0:
            t.init(img, tuple(box))
            continue
        try:
            ok, b = t.update(img)
        except cv2.error:
            break
        if ok:
            last = list(b)
        out.append(list(last))
    return out


def etrack_boxes(etrack, model, seq, box, release):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "b.txt")
        subprocess.run([etrack, "track", "--model", model, "--sequence", seq, "--init", ",".join(map(str, box)),
                        "--mode", "opencv", "--opencv-version", release, "--output", out],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return [[int(float(v)) for v in line.split(",")] for line in open(out).read().split()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etrack", default=".build/release/etrack")
    ap.add_argument("--sequences", required=True)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as models:
        subprocess.run([sys.executable, os.path.join(HERE, "trackervit_models.py"), models], check=True, stdout=subprocess.DEVNULL)
        seqs = sorted(d for d in glob.glob(os.path.join(a.sequences, "*")) if os.path.isdir(os.path.join(d, "img")))
        print(f"cv2.TrackerVit of OpenCV {cv2.__version__} vs etrack --mode opencv --opencv-version R")
        for name in ["still", "drift", "driftback", "pixels", "content", "contentlost"]:
            model = os.path.join(models, name + ".onnx")
            for release in ["5.0", "5.1"]:
                identical, firsts = 0, []
                for seq in seqs:
                    with open(os.path.join(seq, "groundtruth.txt")) as f:
                        box = [int(float(v)) for v in f.readline().replace("\t", ",").replace(" ", ",").split(",") if v]
                    ref, ours = opencv_boxes(model, seq, box), etrack_boxes(a.etrack, model, seq, box, release)
                    first = next((i for i, (x, y) in enumerate(zip(ref, ours)) if x != y), None)
                    if first is None and len(ref) != len(ours):
                        first = min(len(ref), len(ours))  # one stopped (threw) where the other went on
                    if first is None:
                        identical += 1
                    else:
                        firsts.append(f"{os.path.basename(seq)}@{first}")
                print(f"  {name:12s} R={release}: identical on {identical}/{len(seqs)}; first differing frame: {', '.join(firsts) or '-'}")


if __name__ == "__main__":
    main()
