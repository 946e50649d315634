#!/usr/bin/env python3
"""Checks ONNX files written by EfficientTrack's ONNX writer (Sources/ETONNX/Writer).

For every case of MANIFEST (written by Tests/ETONNXTests/WriterReferenceTests.swift):
  - onnx.checker.check_model(full_check=True) (includes strict shape inference),
  - canonical encoding: onnx.load(...).SerializeToString() reproduces the file byte for byte,
  - the header fields (ir_version, opsets, producer, metadata_props, value_info names),
  - ONNX Runtime (one thread) runs it on the given inputs; outputs go to OUTDIR as raw
    little-endian float32,
  - when the case asks for it, cv2.dnn.readNetFromONNX loads and runs it too.
Errors are recorded per case (never dropped); the script fails only when it cannot run at all.

MANIFEST: {"cases": [{"name", "model", "opencv": bool,
                      "inputs": [{"name", "shape", "file"}]}]}
Writes OUTDIR/result.json: {name: {"checker", "canonical", "ir_version", "opsets", "producer",
  "metadata", "value_info", "ort": {"error"|"outputs": [{"name","shape","file"}]},
  "opencv": {"error"|"outputs": [...]}}}

Usage: writer_check.py MANIFEST OUTDIR
"""
import json
import os
import sys
import traceback

import numpy as np
import onnx
import onnxruntime as ort


def load_inputs(case):
    return {i["name"]: np.fromfile(i["file"], dtype="<f4").reshape(i["shape"]) for i in case["inputs"]}


def save_outputs(outdir, tag, names, values):
    outs = []
    for k, (n, v) in enumerate(zip(names, values)):
        f = os.path.join(outdir, f"{tag}_{k}.f32")
        np.asarray(v, dtype="<f4").tofile(f)
        outs.append({"name": n, "shape": list(np.shape(v)), "file": f})
    return outs


def run_ort(path, feeds, outdir, tag):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return save_outputs(outdir, tag, names, sess.run(names, feeds))


def run_opencv(path, feeds, output_names, outdir, tag):
    import cv2
    net = cv2.dnn.readNetFromONNX(path)
    for name, v in feeds.items():
        net.setInput(v, name)
    values = net.forward(output_names)
    return save_outputs(outdir, tag, output_names, values)


def check_case(case, outdir):
    r = {}
    path = case["model"]
    raw = open(path, "rb").read()
    model = onnx.load_from_string(raw)
    try:
        onnx.checker.check_model(model, full_check=True)
        r["checker"] = "ok"
    except Exception as e:  # recorded, the Swift test fails on it
        r["checker"] = f"{type(e).__name__}: {e}"
    r["canonical"] = model.SerializeToString() == raw
    r["ir_version"] = model.ir_version
    r["opsets"] = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    r["producer"] = model.producer_name
    r["metadata"] = {p.key: p.value for p in model.metadata_props}
    r["value_info"] = [v.name for v in model.graph.value_info]
    feeds = load_inputs(case)
    tag = case["name"]
    try:
        r["ort"] = {"outputs": run_ort(path, feeds, outdir, tag + "_ort")}
    except Exception as e:
        r["ort"] = {"error": f"{type(e).__name__}: {e}"}
    if case.get("opencv"):
        try:
            names = [o.name for o in model.graph.output]
            r["opencv"] = {"outputs": run_opencv(path, feeds, names, outdir, tag + "_cv")}
        except Exception as e:
            r["opencv"] = {"error": f"{type(e).__name__}: {e}"}
    return r


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    manifest, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    cases = json.load(open(manifest))["cases"]
    results = {}
    for case in cases:
        try:
            results[case["name"]] = check_case(case, outdir)
        except Exception:
            results[case["name"]] = {"checker": "script error: " + traceback.format_exc()}
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
