#!/usr/bin/env python3
"""Write small one-stream (TrackerVit-interface) ONNX models whose outputs are fixed maps.

Every model has inputs `template` 1x3x128x128 and `search` 1x3x256x256 and outputs `output1`
(score 1x1x16x16), `output2` (size 1x2x16x16) and `output3` (offset 1x2x16x16). Each output is
`Conv(search, W, stride 16) + map + Conv(template, 0, stride 128)`: with W = 0 the maps do not
depend on the frame at all, so cv2.TrackerVit's box arithmetic can be tested without a trained
network (with random weights TrackerVit drifts and crashes). The `pixels` model adds to the score
a per-cell weighted mean of the three normalised search planes, so the score (and the lost
decision) depends on the crop, its resize and the normalisation of each plane; `content` and
`contentlost` do the same for the size and offset maps too, so the box follows the content.

Usage: trackervit_models.py OUT_DIR [--metadata] [--bad]
Writes OUT_DIR/<name>.onnx for every model. With --metadata the files carry etrack.* metadata_props
(our exporter's keys). With --bad it also writes files a loader must reject, OUT_DIR/bad-*.onnx:
wrong input names, a missing output, wrong output shapes, unreadable or unsupported metadata.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

S = 16


def maps(score, size, offset):
    """score: 16x16, size: (w, h) scalars or 2x16x16, offset: (dx, dy) or 2x16x16 -> float32 maps."""
    s = np.asarray(score, np.float32).reshape(1, 1, S, S)
    z = np.asarray(size, np.float32)
    z = (np.broadcast_to(z.reshape(2, 1, 1), (2, S, S)) if z.size == 2 else z).reshape(1, 2, S, S)
    o = np.asarray(offset, np.float32)
    o = (np.broadcast_to(o.reshape(2, 1, 1), (2, S, S)) if o.size == 2 else o).reshape(1, 2, S, S)
    return s, z.copy(), o.copy()


def peak(row, col, value=0.9, rest=0.3):
    m = np.full((S, S), rest, np.float32)
    m[row, col] = value
    return m


METADATA = {
    "etrack.template_size": "128", "etrack.search_size": "256",
    "etrack.mean": "0.485,0.456,0.406", "etrack.std": "0.229,0.224,0.225", "etrack.color_order": "RGB",
    "etrack.box": "center", "etrack.score": "sigmoid", "etrack.format_version": "1"}


def build(name, score, size, offset, score_weights=(0.0, 0.0, 0.0), metadata=False,
          inputs=("template", "search"), outputs=("output1", "output2", "output3"), offset_channels=2,
          size_weights=None, offset_weights=None):
    """score_weights (3 values) and size_weights / offset_weights (2x3: per output channel, per
    search plane) add weight x (the cell's mean of that normalised search plane) to the maps."""
    s, z, o = maps(score, size, offset)
    inits, nodes = [], []
    if offset_channels != 2:
        o = np.zeros((1, offset_channels, S, S), np.float32)
    tw = np.zeros((1, 3, 128, 128), np.float32)
    inits.append(numpy_helper.from_array(tw, "tz_w"))
    nodes.append(helper.make_node("Conv", [inputs[0], "tz_w"], ["tz"], kernel_shape=[128, 128], strides=[128, 128]))
    for out, base, w in ((outputs[0], s, [score_weights]), (outputs[1], z, size_weights), (outputs[2], o, offset_weights)):
        ch = base.shape[1]
        W = np.zeros((ch, 3, S, S), np.float32)
        if w is not None and ch == len(w):
            for c in range(ch):
                for k in range(3):
                    W[c, k] = w[c][k] / (S * S)
        inits.append(numpy_helper.from_array(W, out + "_w"))
        inits.append(numpy_helper.from_array(base, out + "_map"))
        nodes.append(helper.make_node("Conv", [inputs[1], out + "_w"], [out + "_c"], kernel_shape=[S, S], strides=[S, S]))
        nodes.append(helper.make_node("Add", [out + "_c", out + "_map"], [out + "_m"]))
        nodes.append(helper.make_node("Add", [out + "_m", "tz"], [out]))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(inputs[0], TensorProto.FLOAT, [1, 3, 128, 128]),
         helper.make_tensor_value_info(inputs[1], TensorProto.FLOAT, [1, 3, 256, 256])],
        [helper.make_tensor_value_info(outputs[0], TensorProto.FLOAT, [1, 1, S, S]),
         helper.make_tensor_value_info(outputs[1], TensorProto.FLOAT, [1, 2, S, S]),
         helper.make_tensor_value_info(outputs[2], TensorProto.FLOAT, [1, offset_channels, S, S])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="trackervit_models.py")
    model.ir_version = 8
    if metadata:
        props = dict(METADATA, **{"etrack.config": name})
        if isinstance(metadata, dict):
            props.update(metadata)
        helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    return model


def models():
    q = 0.2501  # size just above 1/4 of the crop: the box keeps its size (floor would shrink exactly 1/4)
    yield "still", peak(8, 8), (q, q), (0.0, 0.0)
    # The peak one cell right and down: the box moves by crop/16 per frame until it leaves the frame.
    yield "drift", peak(8, 9), (q, q), (0.0, 0.3)
    # Up and left with sub-cell offsets: negative coordinates, floor vs truncation, top/left padding.
    yield "driftback", peak(7, 6), (0.26, 0.2402), (0.75, 0.4)
    # A constant score: the window alone picks the cell (ties between the symmetric cells).
    yield "flat", np.full((S, S), 0.9, np.float32), (q, q), (0.5, 0.5)
    # Below the 0.20 threshold everywhere: OpenCV returns False and keeps the box.
    yield "lost", np.full((S, S), 0.15, np.float32), (q, q), (0.0, 0.0)
    # Score depends on the normalised search planes (mostly plane 0): black frames fall below the
    # threshold both with the documented normalisation and with cv2.TrackerVit's (whose planes 1
    # and 2 are sign-flipped, so a black crop raises them), real frames mostly stay above.
    yield "pixels", peak(8, 8, 0.75, 0.1), (0.2502, 0.2504), (0.25, 0.0), (1.0, 0.1, 0.0)
    # Pixel-dependent probes for the normalisation (every output moves with the crop's content):
    # a flat score plus per-cell plane means, so the content picks the cell; sizes and offsets
    # shift with the plane means of that cell (the box wanders, grows and shrinks).
    yield "content", np.full((S, S), 0.5, np.float32), (0.25, 0.25), (0.5, 0.5), dict(
        score_weights=(0.08, -0.06, 0.05), size_weights=[[0.004, 0, -0.003], [0, 0.004, 0.002]],
        offset_weights=[[0.2, -0.1, 0], [0, 0.15, -0.1]])
    # A peak near the 0.20 threshold that the plane means push above or below: ok and lost frames
    # alternate with the content; sizes and offsets as above, centred on "hold still".
    yield "contentlost", peak(8, 8, 0.18, 0.0), (0.2502, 0.2502), (0.0, 0.0), dict(
        score_weights=(-0.2, 0.1, 0.1), size_weights=[[0.003, -0.002, 0], [0.002, 0, 0.003]],
        offset_weights=[[0.1, 0, 0.1], [-0.1, 0.1, 0]])


def bad_models():
    """Files the loader must reject, each with the reason it names."""
    yield "bad-inputs", dict(inputs=("z", "x"))
    yield "bad-outputs", dict(outputs=("output1", "output2", "offset"))
    yield "bad-shape", dict(offset_channels=4)
    yield "bad-mean", dict(metadata={"etrack.mean": "0.485,zero,0.406"})
    yield "bad-scale", dict(metadata={"etrack.mean": "123.675,116.28,103.53"})
    yield "bad-box", dict(metadata={"etrack.box": "corner"})
    yield "bad-version", dict(metadata={"etrack.format_version": "2"})
    yield "bad-order", dict(metadata={"etrack.color_order": "YUV"})
    yield "bad-size", dict(metadata={"etrack.search_size": "1x3x256x200"})
    yield "bgr", dict(metadata={"etrack.color_order": "BGR", "etrack.mean": "0.406,0.456,0.485", "etrack.std": "0.225,0.224,0.229"})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--metadata", action="store_true")
    ap.add_argument("--bad", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for spec in models():
        name, rest = spec[0], spec[1:]
        kw = rest[-1] if isinstance(rest[-1], dict) else {}
        rest = rest[:-1] if kw else rest
        onnx.save(build(name, *rest, metadata=a.metadata, **kw), os.path.join(a.out, name + ".onnx"))
        print(os.path.join(a.out, name + ".onnx"))
    if a.bad:
        for name, kw in bad_models():
            onnx.save(build(name, peak(8, 8), (0.2501, 0.2501), (0.0, 0.0), **kw), os.path.join(a.out, name + ".onnx"))
            print(os.path.join(a.out, name + ".onnx"))
