#!/usr/bin/env python3
"""A model trained by `etrack train`, tracked by cv2.TrackerVit and by `etrack track --mode opencv`.

The weights file is exported to ONNX (`etrack export`) and given to cv2.TrackerVit
(scripts/reference/trackervit_opencv.py, 1 thread); `etrack track --mode opencv` runs both the
exported ONNX file and the weights file itself (the in-memory family loader), on every frame of
every sequence. TrackerVit floors x·crop for each coordinate, so the ~1e-6 relative difference
between two engines flips a coordinate by 1 px when it lies within ~0.002 px of an integer (crop
sides reach 2000 px for a barely trained model's large boxes); from there the two runs follow
different boxes. So each sequence is compared frame by frame up to its first difference, which
must be such a flip (every coordinate within 1 px); the identical frames must be >= 90% of all
compared frames. Mean IoU over all frames is reported too.

Usage: trained_trackervit.py --etrack .build/release/etrack --weights RUN/model.safetensors
          [--sequences ../shared/data/sequences] [--frames N]
Exit status 1 when a sequence falls below the thresholds.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def iou(a, b):
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    h = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def first_box(seq):
    with open(os.path.join(seq, "groundtruth.txt")) as f:
        v = [float(t) for t in f.readline().replace("\t", ",").replace(" ", ",").split(",") if t.strip()]
    return [int(t) for t in v[:4]]   # cv2 gets an integer Rect


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--etrack", default=".build/release/etrack")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--sequences", default=os.path.join(HERE, "../../../shared/data/sequences"))
    ap.add_argument("--frames", type=int, default=0, help="frames per sequence (0: all)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="etrack-trained-vit-")
    onnx_path = os.path.join(tmp, "trained.onnx")
    subprocess.run([a.etrack, "export", a.weights, "--output", onnx_path], check=True, stdout=subprocess.DEVNULL)
    seqs = sorted(d for d in glob.glob(os.path.join(a.sequences, "*")) if os.path.isdir(os.path.join(d, "img")))
    failed, totals = False, [0, 0]
    print(f"{'sequence':28s} {'frames':>6s} {'model':>12s} {'mean IoU':>9s} {'identical':>9s}  first difference")
    for seq in seqs:
        box = first_box(seq)
        init = ",".join(map(str, box))
        cmd = [sys.executable, os.path.join(HERE, "../reference/trackervit_opencv.py"), "--models", onnx_path,
               "--sequence", seq, "--init", init] + (["--frames", str(a.frames)] if a.frames else [])
        ref = {}
        for line in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines():
            f = line.split()
            if len(f) == 8:
                ref[int(f[1])] = [float(t) for t in f[3:7]]
            elif len(f) >= 3 and f[2] == "error":
                break   # cv2 threw: compare the frames before it
        for label, model in (("onnx", onnx_path), ("safetensors", a.weights)):
            out = os.path.join(tmp, os.path.basename(seq) + "-" + label + ".txt")
            if os.path.exists(out):
                os.remove(out)
            subprocess.run([a.etrack, "track", "--model", model, "--mode", "opencv", "--sequence", seq, "--init", init,
                            "--output", out, "--force"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ours = [[float(t) for t in l.split(",")] for l in open(out) if l.strip()]
            frames = [i for i in sorted(ref) if 0 < i < len(ours) and (not a.frames or i < a.frames)]
            ious = [iou(ours[i], ref[i]) for i in frames]
            first = next((i for i in frames if ours[i] != ref[i]), None)
            same = len(frames) if first is None else frames.index(first)
            flip = first is None or max(abs(x - y) for x, y in zip(ours[first], ref[first])) <= 1
            mean = sum(ious) / max(1, len(ious))
            ok = len(frames) > 0 and flip
            failed |= not ok
            totals[0] += same
            totals[1] += same if first is None else same + 1   # compared up to and with the first difference
            where = "-" if first is None else f"{first}: {ours[first]} vs cv2 {ref[first]}"
            print(f"{os.path.basename(seq):28s} {len(frames):6d} {label:>12s} {mean:9.4f} {same:9d}  {where}{'' if ok else '  FAIL'}")
    share = totals[0] / max(1, totals[1])
    failed |= share < 0.9
    print(f"trained model vs cv2.TrackerVit: {totals[0]} of {totals[1]} compared frames identical ({100 * share:.1f}%):",
          "FAIL" if failed else "ok")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
