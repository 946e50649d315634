#!/usr/bin/env python3
"""Which of OpenCV 5.1's three TrackerNano changes does cv2.TrackerNano really make? Measured
through the tracker: OpenCV's own algorithm (the float32 port in scripts/compare/nanotrack_ort_port.py,
ONNX Runtime networks) with no change, each change alone, and all three, against the cv2.TrackerNano
of the installed OpenCV, on every shared sequence; each change alone and all but one show which are
needed. Prints per variant the sequences whose boxes
are identical on every frame and the first differing frame of the others.

Usage: opencv_nano_changes.py --model ../shared/models/nanotrack-v2 --sequences ../shared/data/sequences
Run it with the Python of each OpenCV release (scripts/compare/opencv_versions.sh makes them).
"""
import argparse
import glob
import os
import sys

import cv2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compare"))
import nanotrack_ort_port as port_mod  # noqa: E402
import opencv_nanotrack as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sequences", required=True)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    seqs = sorted(d for d in glob.glob(os.path.join(a.sequences, "*")) if os.path.isdir(os.path.join(d, "img")))
    frames = {s: [cv2.imread(f) for f in sorted(glob.glob(os.path.join(s, "img", "*")))] for s in seqs}
    opencv = {s: ref.run_opencv(s, a.model, ref.first_box(s))[0] for s in seqs}
    all3 = port_mod.Port.CHANGES_5_1
    variants = ([("none (5.0)", ())] + [(c + " only", (c,)) for c in all3]
                + [("all but " + c, tuple(x for x in all3 if x != c)) for c in all3] + [("all three (5.1)", all3)])
    print(f"OpenCV {cv2.__version__}, {os.path.basename(a.model)}: OpenCV's TrackerNano algorithm with ONNX Runtime networks vs cv2.TrackerNano")
    for label, changes in variants:
        identical, firsts = 0, []
        for s in seqs:
            box = ref.first_box(s)
            boxes = port_mod.Port(a.model, changes=changes).track(frames[s], box)
            first = ref.first_difference(opencv[s], boxes)
            if first is None:
                identical += 1
            else:
                firsts.append(f"{os.path.basename(s)}@{first}")
        print(f"  {label:32s} identical on {identical}/{len(seqs)} sequences; first differing frame: {', '.join(firsts) or '-'}")


if __name__ == "__main__":
    main()
