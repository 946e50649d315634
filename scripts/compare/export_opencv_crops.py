#!/usr/bin/env python3
"""cv2.dnn and ONNX Runtime on our exported models agree with our native forward, frame by frame.

For each model (default: vittrack-opencv-48 and et-128-fgaf3-bn) `etrack export` writes the ONNX
file with seeded random weights (--init probe: every map varied, so the comparison is not
trivially passed by flat maps); a model given as a .safetensors file (what `etrack train`
writes) is exported with its own weights. For every sequence folder (img/ + groundtruth.txt) under
--sequences, the crops are made with TrackerVit's crop arithmetic (reference-trackers.md §3):
  - template: frame 0, factor 2 -> 128 px; search: frame t around the box of frame t-1, factor 4
    -> 256 px (the ground-truth box stands in for the tracker's last box until the one-stream
    tracker lands in Sources/ETTracking/OneStream);
  - crop = ceil(sqrt(w*h)*factor), x1 = x + (w - crop)/2 truncated toward zero; the padded crop
    is the crop x crop window over the frame with zeros outside it (what cv2 5.0's TrackerVit
    produces: copyMakeBorder on the ROI of the frame restores the column its x2_pad = x2 - W + 1
    drops, see Sources/ETTracking/OneStream/OneStreamTracker.swift), cv2.resize INTER_LINEAR;
  - normalisation (p - 255*mean)/(255*std); --color bgr feeds the BGR frame as TrackerVit does
    (channel 0 = B gets the R statistics), --color rgb converts first (our correct mode).
Then per frame: `etrack export --forward-inputs` runs our native forward on all crops of the
sequence, ONNX Runtime (1 thread) and cv2.dnn.readNetFromONNX run the exported file, and the three
output maps (score, size, offset) are compared: max |a - b| / max |native|, worst frame reported.
Exit status 1 when any frame of any sequence differs by more than --tolerance (1e-4).

Usage: export_opencv_crops.py --etrack .build/release/etrack [--sequences ../shared/data/sequences]
         [--models vittrack-opencv-48,et-128-fgaf3-bn] [--max-frames N] [--json report.json]
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import onnxruntime as ort

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float64)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float64)


def read_boxes(seq):
    boxes = []
    with open(os.path.join(seq, "groundtruth.txt")) as f:
        for line in f:
            v = [float(t) for t in line.replace("\t", ",").replace(" ", ",").split(",") if t.strip()]
            boxes.append(v[:4] if len(v) >= 4 else [math.nan] * 4)
    return boxes


def valid(b):
    return all(math.isfinite(t) for t in b) and b[2] >= 1 and b[3] >= 1


def crop_image(img, box, factor, out):
    """TrackerVit's crop (integer box): the window over the frame, zeros outside, resized."""
    x, y, w, h = (int(round(t)) for t in box)
    H, W = img.shape[:2]
    crop = int(math.ceil(math.sqrt(w * h) * factor))
    x1 = x + int((w - crop) / 2)   # C integer division truncates toward zero
    y1 = y + int((h - crop) / 2)
    window = np.zeros((crop, crop, 3), dtype=img.dtype)
    sx0, sy0, sx1, sy1 = max(x1, 0), max(y1, 0), min(x1 + crop, W), min(y1 + crop, H)
    if sx1 > sx0 and sy1 > sy0:
        window[sy0 - y1:sy1 - y1, sx0 - x1:sx1 - x1] = img[sy0:sy1, sx0:sx1]
    return cv2.resize(window, (out, out), interpolation=cv2.INTER_LINEAR)


def blob(patch, color):
    if color == "rgb":
        patch = cv2.cvtColor(patch, cv2.COLOR_BGR2RGB)
    x = (patch.astype(np.float32) - (255 * MEAN).astype(np.float32)) * (1 / (255 * STD)).astype(np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def rel(a, ref):
    return float(np.abs(a - ref).max() / max(np.abs(ref).max(), 1e-6))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--etrack", default=".build/release/etrack")
    ap.add_argument("--sequences", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/sequences"))
    ap.add_argument("--models", default="vittrack-opencv-48,et-128-fgaf3-bn")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--color", choices=["bgr", "rgb"], default="bgr")
    ap.add_argument("--max-frames", type=int, default=0, help="search frames per sequence (0: all)")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--json", help="write the per-sequence report here")
    args = ap.parse_args()

    seqs = sorted(d for d in glob.glob(os.path.join(args.sequences, "*")) if os.path.isdir(os.path.join(d, "img")))
    if not seqs:
        sys.exit(f"no sequences under {args.sequences}")
    tmp = tempfile.mkdtemp(prefix="etrack-export-crops-")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    names = ["output1", "output2", "output3"]
    report, worst_all, failed = [], 0.0, False
    print(f"{'model':20s} {'sequence':28s} {'frames':>6s}  {'ORT vs native':>13s}  {'cv2 vs native':>13s}  {'cv2 vs ORT':>10s}")
    for model in args.models.split(","):
        label = os.path.basename(os.path.dirname(os.path.abspath(model))) + "/" + os.path.basename(model) if model.endswith(".safetensors") else model
        onnx_path = os.path.join(tmp, os.path.basename(model) + ".onnx")
        for seq in seqs:
            frames = sorted(glob.glob(os.path.join(seq, "img", "*")))
            boxes = read_boxes(seq)
            n = min(len(frames), len(boxes))
            if n < 2 or not valid(boxes[0]):
                continue
            template = blob(crop_image(cv2.imread(frames[0]), boxes[0], 2, 128), args.color)
            searches, last = [], boxes[0]
            stop = n if args.max_frames <= 0 else min(n, args.max_frames + 1)
            for t in range(1, stop):
                searches.append(blob(crop_image(cv2.imread(frames[t]), last, 4, 256), args.color))
                if valid(boxes[t]):
                    last = boxes[t]
            d = os.path.join(tmp, "io")
            os.makedirs(d, exist_ok=True)
            template.tofile(os.path.join(d, "template.f32"))
            np.concatenate(searches).tofile(os.path.join(d, "search.f32"))
            # A name gets probe weights; a .safetensors file (a trained run's model) its own.
            weights = [] if model.endswith(".safetensors") else ["--seed", str(args.seed), "--init", "probe"]
            subprocess.run([args.etrack, "export", model, "--output", onnx_path, "--force", *weights,
                            "--forward-inputs", d, "--forward-outputs", d],
                           check=True, stdout=subprocess.DEVNULL)
            k = len(searches)
            native = [np.fromfile(os.path.join(d, f"{o}.f32"), dtype="<f4").reshape(k, -1, 16, 16) for o in names]
            sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
            net = cv2.dnn.readNetFromONNX(onnx_path)
            errs = {"ort": [0.0] * 3, "cv2": [0.0] * 3, "cv2_ort": [0.0] * 3}
            worst_frame = {"ort": 0, "cv2": 0}
            for i, x in enumerate(searches):
                o = sess.run(names, {"template": template, "search": x})
                net.setInput(template, "template")
                net.setInput(x, "search")
                c = net.forward(names)
                for j in range(3):
                    ref = native[j][i][None]
                    e_o, e_c = rel(o[j], ref), rel(c[j], ref)
                    if e_o > errs["ort"][j]:
                        errs["ort"][j], worst_frame["ort"] = e_o, i + 1
                    if e_c > errs["cv2"][j]:
                        errs["cv2"][j], worst_frame["cv2"] = e_c, i + 1
                    errs["cv2_ort"][j] = max(errs["cv2_ort"][j], rel(c[j], o[j]))
            worst = max(max(v) for v in errs.values())
            worst_all = max(worst_all, worst)
            ok = worst < args.tolerance
            failed |= not ok
            name = os.path.basename(seq)
            print(f"{label:20s} {name:28s} {k:6d}  {max(errs['ort']):13.2e}  {max(errs['cv2']):13.2e}  "
                  f"{max(errs['cv2_ort']):10.2e}{'' if ok else '  FAIL'}")
            report.append({"model": label, "sequence": name, "frames": k, "ok": ok,
                           "ort_vs_native": errs["ort"], "cv2_vs_native": errs["cv2"], "cv2_vs_ort": errs["cv2_ort"],
                           "worst_frame": worst_frame})
    print(f"worst relative error over all frames, outputs and runtimes: {worst_all:.2e} "
          f"(tolerance {args.tolerance:g}): {'FAIL' if failed else 'ok'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"color": args.color, "seed": args.seed, "tolerance": args.tolerance, "runs": report}, f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
