#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz corpora (Fuzz/corpus/<target>/seed-*): small valid files of
every format the harness reads, made here so nothing is copied from elsewhere. Run in the pinned
reference environment (onnx, numpy, opencv, safetensors); scripts/hardening/fuzz.sh --merge then
minimises seeds plus what fuzzing found into the corpora kept in the repo.

  python3 scripts/hardening/fuzz_seeds.py [OUT_DIR]   (default Fuzz/corpus)
"""
import json, os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../Fuzz/corpus")


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


rng = np.random.default_rng(0)
f32 = lambda *s: rng.standard_normal(s).astype(np.float32)


def model(name, nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
                          [numpy_helper.from_array(a, n) for n, a in inits])
    put("onnx", name + ".onnx", helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString())


model("conv", [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["y"], ["z"])],
      [("x", [1, 2, 5, 5])], ["z"], [("w", f32(3, 2, 3, 3)), ("b", f32(3))])
model("gemm", [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1), helper.make_node("Softmax", ["y"], ["z"], axis=-1)],
      [("x", [2, 4])], ["z"], [("w", f32(3, 4)), ("b", f32(3))])
model("reshape", [helper.make_node("Reshape", ["x", "s"], ["y"]), helper.make_node("Transpose", ["y"], ["z"], perm=[1, 0])],
      [("x", [2, 3, 2])], ["z"], [("s", np.array([4, 3], np.int64))])
model("layernorm", [helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1),
                    helper.make_node("Gelu", ["y"], ["z"], approximate="tanh")], [("x", [2, 3, 4])], ["z"],
      [("g", f32(4)), ("b", f32(4))], opset=20)
model("slice_concat", [helper.make_node("Slice", ["x", "st", "en", "ax"], ["a"]), helper.make_node("Concat", ["a", "x"], ["z"], axis=1)],
      [("x", [1, 4, 3])], ["z"], [("st", np.array([1], np.int64)), ("en", np.array([3], np.int64)), ("ax", np.array([1], np.int64))])
model("batchnorm", [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"]),
                    helper.make_node("GlobalAveragePool", ["y"], ["z"])], [("x", [2, 3, 2, 2])], ["z"],
      [("s", f32(3)), ("b", f32(3)), ("m", f32(3)), ("v", np.abs(f32(3)))])
model("matmul_shape", [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Shape", ["y"], ["s"]),
                       helper.make_node("ConstantOfShape", ["s"], ["c"]), helper.make_node("Add", ["y", "c"], ["z"])],
      [("x", [2, 3])], ["z"], [("w", f32(3, 5))])

from safetensors.numpy import save
put("safetensors", "weights.safetensors", save({"a": f32(2, 3), "b.bias": f32(4)}, metadata={"etrack": "seed"}))
put("safetensors", "ints.safetensors", save({"i": np.arange(6, dtype=np.int64).reshape(2, 3), "h": np.ones(3, np.float16)}))

import io
for name, a in [("f32", f32(2, 3)), ("i64", np.arange(4, dtype=np.int64)), ("scalar", np.float32(3.5)), ("bool", np.array([True, False]))]:
    b = io.BytesIO(); np.save(b, a); put("tensor", name + ".npy", b.getvalue())
    put("tensor", name + ".pb", numpy_helper.from_array(np.asarray(a), "t").SerializeToString())

import cv2
img = (rng.random((12, 16, 3)) * 255).astype(np.uint8)
put("image", "rgb.jpg", cv2.imencode(".jpg", img)[1].tobytes())
put("image", "gray.jpg", cv2.imencode(".jpg", img[:, :, 0])[1].tobytes())
put("image", "progressive.jpg", cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes())
put("image", "rgb.png", cv2.imencode(".png", img)[1].tobytes())
put("image", "gray16.png", cv2.imencode(".png", (img[:, :, 0].astype(np.uint16) * 257))[1].tobytes())
put("image", "rgba.png", cv2.imencode(".png", np.dstack([img, img[:, :, :1]]))[1].tobytes())

put("text", "groundtruth.txt", "205,151,17,50\n206.5,150,17,50\nNaN,NaN,NaN,NaN\n1\t2\t3\t4\r\n")
put("text", "times.txt", "0.001\n0.0025\n1e-3\n")
put("text", "flags.txt", "0\n1\n1.0\n0,1,0\n")
put("text", "manifest.json", json.dumps({"format": "etrack-track-run/1", "status": "partial", "frames": 3, "started": "2026-01-01T00:00:00Z",
                                          "run": {"model": "m", "source": "s", "initBox": "1,2,3,4", "options": "o"},
                                          "stop": {"frame": 4, "state": "interrupted", "reason": "SIGINT"}, "warnings": [], "resumedAt": [2]}))
for i, a in enumerate(["-10,100,60,60", "1 2 3 4", "2/8", "name=dir/run", "5.1", "4.14", "0/1", "inf,1,2,3"]):
    put("arguments", "%d.txt" % i, a)
print("seeds written to", os.path.abspath(out))
