#!/usr/bin/env python3
"""OpenCV's TrackerNano algorithm, step for step in float32 numpy, with ONNX Runtime as the network
backend instead of cv2.dnn. It isolates backend float noise: where this port and cv2.TrackerNano
part ways, any implementation whose networks are not bit-identical to cv2.dnn will too.

Usage: nanotrack_ort_port.py --model DIR --sequences DIR [--etrack-results DIR]
Prints per sequence the mean IoU of (this port vs OpenCV).
"""
import argparse
import glob
import os

import cv2
import numpy as np
import onnx
import onnxruntime as ort

f32 = np.float32


def sessions(model):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    m = onnx.load(os.path.join(model, "backbone.onnx"))
    for d, n in zip(m.graph.input[0].type.tensor_type.shape.dim[2:], ["H", "W"]):
        d.dim_param = n
    bb = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    hd = ort.InferenceSession(os.path.join(model, "head.onnx"), so, providers=["CPUExecutionProvider"])
    return bb, hd


class Port:
    # The three TrackerNano changes of OpenCV 5.1 (docs/trackers/opencv-versions.md).
    CHANGES_5_1 = ("float_context_sum", "float_window_ratio", "penalty_on_target_size")

    def __init__(self, model, version=None, changes=None):
        """version: the OpenCV release (MAJOR, MINOR) whose TrackerNano to port (default: the cv2 in
        use); changes: an explicit subset of CHANGES_5_1 instead, to measure each one alone."""
        self.bb, self.hd = sessions(model)
        if changes is None:
            v = version or tuple(int(x) for x in cv2.__version__.split(".")[:2])
            changes = self.CHANGES_5_1 if v >= (5, 1) else ()
        self.changes = set(changes)

    def crop(self, img, sz, out):
        c = (sz + 1) // 2
        xmin = int(self.pos[0]) - c
        ymin = int(self.pos[1]) - c
        xmax, ymax = xmin + sz - 1, ymin + sz - 1
        H, W = img.shape[:2]
        l, t = max(0, -xmin), max(0, -ymin)
        r, b = max(0, xmax - W + 1), max(0, ymax - H + 1)
        if l or t or r or b:
            img = cv2.copyMakeBorder(img, t, b, l, r, cv2.BORDER_CONSTANT, value=cv2.mean(img))
        patch = img[ymin + t:ymin + t + sz, xmin + l:xmin + l + sz]
        return cv2.resize(patch, (out, out))

    def features(self, patch):
        blob = cv2.dnn.blobFromImage(patch, 1.0, swapRB=True)
        return self.bb.run(None, {self.bb.get_inputs()[0].name: blob})[0]

    def init(self, img, box):
        x, y, w, h = box
        self.pos = [f32(x) + f32(w) * f32(0.5), f32(y) + f32(h) * f32(0.5)]
        self.size = [f32(w), f32(h)]
        s = self.size[0] + self.size[1]
        sz = int(np.sqrt(f32((self.size[0] + f32(0.5) * s) * (self.size[1] + f32(0.5) * s))))
        self.z = self.features(self.crop(img, sz, 127))
        S = 16
        hann = 0.5 * (1 - np.cos(2 * np.pi * np.arange(S) / (S - 1)))
        self.win = np.sqrt(np.outer(hann, hann)).astype(f32)
        g = (np.arange(S) - S // 2) * 16 + 127
        self.gx = np.tile(g, (S, 1)).astype(f32)
        self.gy = self.gx.T.copy()

    def track(self, frames, box):
        """Boxes for decoded frames, initialised with `box` on frame 0 (the first row is `box`)."""
        boxes = [box]
        for i, img in enumerate(frames):
            if i == 0:
                self.init(img, box)
            else:
                boxes.append(self.update(img))
        return boxes

    def update(self, img):
        tw, th = self.size
        # OpenCV 5.1: float context sum, 255f/127 window ratio, scale penalty on the scaled size.
        ssum = tw + th if "float_context_sum" in self.changes else f32(int(tw + th))
        wc, hc = tw + f32(0.5) * ssum, th + f32(0.5) * ssum
        sz = np.sqrt(f32(wc * hc))
        scale = f32(127) / sz
        sx = sz * (f32(255) / f32(127) if "float_window_ratio" in self.changes else f32(2))
        tw, th = tw * scale, th * scale
        xf = self.features(self.crop(img, int(sx), 255))
        cls, loc = self.hd.run(["output1", "output2"], {"input1": self.z, "input2": xf})
        cls, loc = cls[0], loc[0]
        m = np.maximum(cls[1], cls[0])
        e0, e1 = np.exp(cls[0] - m), np.exp(cls[1] - m)
        score = (e1 / (e0 + e1)).astype(f32)
        x1, y1, x2, y2 = self.gx - loc[0], self.gy - loc[1], self.gx + loc[2], self.gy + loc[3]

        def sc(a, b):
            p = (a + b) * f32(0.5)
            return np.sqrt((a + p) * (b + p))
        s_c = sc(x2 - x1, y2 - y1) / (sc(tw, th) if "penalty_on_target_size" in self.changes else sc(self.pos[0], self.pos[1]))
        s_c = np.maximum(s_c, 1 / s_c)
        r_c = (tw / th) / ((x2 - x1) / (y2 - y1))
        r_c = np.maximum(r_c, 1 / r_c)
        pen = np.exp(((r_c * s_c).astype(np.float64) - 1) * f32(0.055) * -1).astype(f32)
        ps = (pen * score).astype(np.float64) * (1 - f32(0.455)) + self.win.astype(np.float64) * f32(0.455)
        ps = ps.astype(f32)
        b = np.unravel_index(np.argmax(ps), ps.shape)
        pxs, pys = (x1[b] + x2[b]) / 2, (y1[b] + y2[b]) / 2
        pw, ph = (x2[b] - x1[b]) / scale, (y2[b] - y1[b]) / scale
        dx, dy = (pxs - f32(127)) / scale, (pys - f32(127)) / scale
        tw, th = tw / scale, th / scale
        lr = pen[b] * score[b] * f32(0.37)
        H, W = img.shape[:2]
        rx = min(max(self.pos[0] + dx, f32(0)), f32(W))
        ry = min(max(self.pos[1] + dy, f32(0)), f32(H))
        rw = min(max(pw * lr + (1 - lr) * tw, f32(10)), f32(W))
        rh = min(max(ph * lr + (1 - lr) * th, f32(10)), f32(H))
        self.pos, self.size = [rx, ry], [rw, rh]
        return [int(rx - rw / 2), int(ry - rh / 2), int(rw), int(rh)]


def main():
    import opencv_nanotrack as ref
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sequences", required=True)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    for seq in sorted(d for d in glob.glob(os.path.join(args.sequences, "*")) if os.path.isdir(os.path.join(d, "img"))):
        box = ref.first_box(seq)
        ob, _ = ref.run_opencv(seq, args.model, box)
        frames = [cv2.imread(f) for f in sorted(glob.glob(os.path.join(seq, "img", "*")))]
        pb = Port(args.model).track(frames, box)
        ious = [ref.iou(a, b) for a, b in zip(ob, pb)]
        first = ref.first_difference(ob, pb)
        print(f"{os.path.basename(seq):28s} ORT-port vs OpenCV: mean IoU {np.mean(ious):.4f}, "
              f"IoU>=0.9 {np.mean([v >= 0.9 for v in ious]):.3f}, first differing frame {first}")


if __name__ == "__main__":
    main()
