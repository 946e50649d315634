#!/usr/bin/env python3
"""Runs ONNX files written by `etrack export` (Sources/ETONNX/Export) in ONNX Runtime and OpenCV.

For every case of MANIFEST (written by Tests/ETONNXTests/ExportTests.swift):
  - when "checker" is true: onnx.checker.check_model(full_check=True) (strict shape inference),
  - the model's metadata_props, graph input/output names and shapes,
  - ONNX Runtime (CPU, one thread) on the given inputs; outputs go to OUTDIR as raw
    little-endian float32,
  - when "opencv" is true: cv2.dnn.readNetFromONNX loads and runs it too.
Errors are recorded per case (never dropped); the script fails only when it cannot run at all.

MANIFEST: {"cases": [{"name", "model", "opencv": bool, "checker": bool,
                      "inputs": [{"name", "shape", "file"}]}]}
Writes OUTDIR/result.json: {name: {"checker", "metadata", "inputs", "outputs",
  "ort": {"error"|"outputs": [{"name","shape","file"}]}, "opencv": {"error"|"outputs": [...]}}}

Usage: export_check.py MANIFEST OUTDIR
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


def dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim]


def check_case(case, outdir):
    r = {}
    path = case["model"]
    model = onnx.load(path)
    if case.get("checker"):
        try:
            onnx.checker.check_model(model, full_check=True)
            r["checker"] = "ok"
        except Exception as e:  # recorded, the Swift test fails on it
            r["checker"] = f"{type(e).__name__}: {e}"
    r["metadata"] = {p.key: p.value for p in model.metadata_props}
    r["inputs"] = {i.name: dims(i) for i in model.graph.input}
    r["outputs"] = {o.name: dims(o) for o in model.graph.output}
    names = [o.name for o in model.graph.output]
    del model
    feeds = load_inputs(case)
    tag = case["name"].replace("@", "_").replace("=", "_").replace(",", "_")
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        r["ort"] = {"outputs": save_outputs(outdir, tag + "_ort", names, sess.run(names, feeds))}
    except Exception as e:
        r["ort"] = {"error": f"{type(e).__name__}: {e}"}
    if case.get("opencv"):
        try:
            import cv2
            net = cv2.dnn.readNetFromONNX(path)
            for name, v in feeds.items():
                net.setInput(v, name)
            r["opencv"] = {"outputs": save_outputs(outdir, tag + "_cv", names, net.forward(names))}
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
            results[case["name"]] = {"error": "script error: " + traceback.format_exc()}
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
