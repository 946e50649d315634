#!/usr/bin/env python3
"""Reference outputs from ONNX Runtime for the Swift ONNX tests.

Writes, under OUTDIR, one folder per case: model.onnx, in_<k>.f32 / out_<k>.f32 (raw little-endian
float32) and a manifest.json listing every case with its input/output names and shapes.
Cases: one small graph per supported op (several attribute variants each), and the real NanoTrack
backbone/head files from ../shared/models (backbone at 255 and 127 inputs) when present.

Usage: onnx_cases.py OUTDIR [--models DIR]
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(1234)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def write_case(out, name, model_path, feeds, opset_note=""):
    sess = session(model_path)
    outs = sess.run(None, feeds)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    case = {"name": name, "model": model_path, "inputs": [], "outputs": []}
    for i, (k, v) in enumerate(feeds.items()):
        f = os.path.join(d, f"in_{i}.f32")
        v.astype("<f4").tofile(f)
        case["inputs"].append({"name": k, "shape": list(v.shape), "file": f})
    for i, (o, v) in enumerate(zip(sess.get_outputs(), outs)):
        f = os.path.join(d, f"out_{i}.f32")
        np.asarray(v, dtype="<f4").tofile(f)
        case["outputs"].append({"name": o.name, "shape": list(np.shape(v)), "file": f})
    return case


def single_op(out, name, op, inputs, attrs=None, consts=None, opset=17, n_out=1):
    """inputs: list of (name, shape) fed at run time; consts: dict name -> ndarray initializers."""
    consts = consts or {}
    attrs = attrs or {}
    node_inputs = [n for n, _ in inputs] + list(consts.keys())
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, node_inputs, outs, **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
        [numpy_helper.from_array(v, k) for k, v in consts.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    feeds = {n: rng.standard_normal(s).astype(np.float32) for n, s in inputs}
    return write_case(out, name, path, feeds)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def i64(v):
    return np.array(v, dtype=np.int64)


def op_cases(out):
    c = []
    # Convolutions: dense, strided, grouped, depthwise 3x3/5x5 s1/s2, dilation, asymmetric pads, no bias, auto_pad.
    conv = [
        ("conv_dense_3x3_s2", (1, 3, 17, 19), (8, 3, 3, 3), dict(pads=[1, 1, 1, 1], strides=[2, 2]), True),
        ("conv_1x1", (1, 16, 9, 7), (24, 16, 1, 1), {}, True),
        ("conv_grouped", (1, 8, 11, 11), (12, 2, 3, 3), dict(group=4, pads=[1, 1, 1, 1]), True),
        ("conv_dw3_s1", (1, 16, 13, 13), (16, 1, 3, 3), dict(group=16, pads=[1, 1, 1, 1]), True),
        ("conv_dw3_s2", (1, 16, 13, 14), (16, 1, 3, 3), dict(group=16, pads=[1, 1, 1, 1], strides=[2, 2]), True),
        ("conv_dw5_s1_nobias", (1, 24, 16, 16), (24, 1, 5, 5), dict(group=24, pads=[2, 2, 2, 2]), False),
        ("conv_dw5_s2", (1, 24, 15, 15), (24, 1, 5, 5), dict(group=24, pads=[2, 2, 2, 2], strides=[2, 2]), True),
        ("conv_dilated_asym", (1, 4, 12, 10), (6, 4, 3, 3), dict(pads=[0, 2, 1, 0], dilations=[2, 1]), True),
        ("conv_2x2_p0", (1, 8, 16, 16), (8, 1, 2, 2), dict(group=8), True),
        ("conv_4x4_p1", (1, 8, 16, 16), (8, 1, 4, 4), dict(group=8, pads=[1, 1, 1, 1]), False),
        ("conv_same_upper", (1, 3, 10, 9), (5, 3, 3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2]), True),
    ]
    for name, xs, ws, attrs, bias in conv:
        consts = {"w": f32(*ws)}
        if bias:
            consts["b"] = f32(ws[0])
        c.append(single_op(out, name, "Conv", [("x", xs)], dict(attrs), consts))
    # Conv whose weight is a run-time input (NanoTrack v3's correlation).
    c.append(single_op(out, "conv_runtime_weight", "Conv", [("x", (1, 6, 10, 10)), ("w", (6, 1, 4, 4))],
                       dict(group=6, pads=[1, 1, 1, 1])))
    c.append(single_op(out, "batchnorm", "BatchNormalization", [("x", (1, 5, 4, 3))],
                       {"epsilon": 1e-3},
                       {"s": f32(5), "bb": f32(5), "m": f32(5), "v": np.abs(f32(5)) + 0.5}))
    c.append(single_op(out, "gemm_transB", "Gemm", [("a", (1, 40))], dict(transB=1), {"w": f32(24, 40), "b": f32(24)}))
    c.append(single_op(out, "gemm_alpha_beta_matrixC", "Gemm", [("a", (7, 5))], dict(alpha=0.5, beta=2.0, transA=0),
                       {"w": f32(5, 3), "c": f32(7, 3)}))
    c.append(single_op(out, "gemm_transA", "Gemm", [("a", (5, 7))], dict(transA=1), {"w": f32(5, 3), "c": f32(3)}))
    c.append(single_op(out, "matmul_3d", "MatMul", [("a", (1, 64, 48)), ("b", (1, 48, 256))]))
    c.append(single_op(out, "matmul_broadcast", "MatMul", [("a", (2, 3, 5, 4)), ("b", (4, 6))]))
    c.append(single_op(out, "matmul_vec", "MatMul", [("a", (4,)), ("b", (3, 4, 5))]))
    for op in ["Add", "Sub", "Mul", "Div", "Max", "Min"]:
        c.append(single_op(out, f"{op.lower()}_same", op, [("a", (2, 3, 4)), ("b", (2, 3, 4))]))
        c.append(single_op(out, f"{op.lower()}_channel", op, [("a", (1, 6, 5, 4)), ("b", (1, 6, 1, 1))]))
        c.append(single_op(out, f"{op.lower()}_scalar_const", op, [("a", (3, 7))], consts={"k": np.array(1.7, np.float32)}))
        c.append(single_op(out, f"{op.lower()}_both_broadcast", op, [("a", (3, 1, 5)), ("b", (1, 4, 1))]))
    c.append(single_op(out, "pow", "Pow", [("a", (3, 4))], consts={"k": np.array(2.0, np.float32)}))
    for op, attrs in [("Relu", {}), ("Sigmoid", {}), ("HardSwish", {}), ("HardSigmoid", {"alpha": 1 / 6}),
                      ("HardSigmoid", {}), ("Exp", {}), ("Tanh", {}), ("Neg", {}), ("Abs", {}), ("Erf", {})]:
        tag = op.lower() + ("_default" if op == "HardSigmoid" and not attrs else "")
        c.append(single_op(out, f"unary_{tag}", op, [("x", (2, 5, 7))], dict(attrs)))
    c.append(single_op(out, "gelu", "Gelu", [("x", (3, 11))], opset=20))
    c.append(single_op(out, "clip_inputs", "Clip", [("x", (4, 9))],
                       consts={"lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}))
    c.append(single_op(out, "clip_attrs_opset9", "Clip", [("x", (4, 9))], {"min": -0.5, "max": 0.7}, opset=9))
    c.append(single_op(out, "global_average_pool", "GlobalAveragePool", [("x", (1, 7, 5, 6))]))
    c.append(single_op(out, "reshape", "Reshape", [("x", (1, 48, 8, 8))], consts={"s": i64([1, 48, -1])}))
    c.append(single_op(out, "reshape_zero", "Reshape", [("x", (2, 3, 4))], consts={"s": i64([0, -1])}))
    c.append(single_op(out, "flatten", "Flatten", [("x", (2, 3, 4, 5))], {"axis": 2}))
    c.append(single_op(out, "transpose", "Transpose", [("x", (1, 48, 64))], {"perm": [0, 2, 1]}))
    c.append(single_op(out, "transpose_4d", "Transpose", [("x", (2, 3, 4, 5))], {"perm": [3, 1, 0, 2]}))
    c.append(single_op(out, "concat_axis1", "Concat", [("a", (1, 3, 4, 4)), ("b", (1, 5, 4, 4))], {"axis": 1}))
    c.append(single_op(out, "concat_last", "Concat", [("a", (2, 3)), ("b", (2, 4))], {"axis": -1}))
    c.append(single_op(out, "slice_v3_style", "Slice", [("x", (1, 96, 8, 8))],
                       consts={"st": i64([2]), "en": i64([6]), "ax": i64([2]), "sp": i64([1])}))
    c.append(single_op(out, "slice_neg_step", "Slice", [("x", (5, 7))],
                       consts={"st": i64([-1, 1]), "en": i64([-100, 6]), "ax": i64([0, 1]), "sp": i64([-2, 2])}))
    c.append(single_op(out, "slice_opset9", "Slice", [("x", (4, 6))], {"starts": [1, 0], "ends": [3, 100], "axes": [0, 1]}, opset=9))
    c.append(single_op(out, "softmax_last", "Softmax", [("x", (3, 17))], {"axis": -1}))
    c.append(single_op(out, "softmax_middle", "Softmax", [("x", (2, 5, 3))], {"axis": 1}))
    c.append(single_op(out, "softmax_opset11_coerce", "Softmax", [("x", (2, 3, 4))], {"axis": 1}, opset=11))
    c.append(single_op(out, "layernorm", "LayerNormalization", [("x", (2, 6, 32))], {"epsilon": 1e-6},
                       {"g": f32(32), "b": f32(32)}))
    c.append(single_op(out, "squeeze_unsqueeze", "Unsqueeze", [("x", (3, 4))], consts={"ax": i64([0, 3])}))
    c.append(single_op(out, "squeeze", "Squeeze", [("x", (1, 3, 1, 4))], consts={"ax": i64([2])}))
    c.append(single_op(out, "gather_const_idx", "Gather", [("x", (5, 6))], {"axis": 1}, {"i": i64([4, 0, 2])}))
    return c


def shape_chain_case(out):
    """Shape → Gather → Unsqueeze → Concat → Reshape, as PyTorch exports dynamic reshapes."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
        helper.make_node("Concat", ["n1", "m1"], ["spec"], axis=0),
        helper.make_node("Reshape", ["x", "spec"], ["r"]),
        helper.make_node("Relu", ["r"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "shape_chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(i64(0), "i0"), numpy_helper.from_array(i64([0]), "ax0"),
                               numpy_helper.from_array(i64([-1]), "m1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    d = os.path.join(out, "shape_chain")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "model.onnx")
    onnx.save(model, p)
    return write_case(out, "shape_chain", p, {"x": f32(3, 4, 5)})


def nanotrack_cases(out, models):
    cases = []
    for v in ["nanotrack-v1", "nanotrack-v2", "nanotrack-v3"]:
        bb = os.path.join(models, v, "backbone.onnx")
        hd = os.path.join(models, v, "head.onnx")
        if not os.path.exists(bb):
            continue
        # onnxruntime rejects 127x127 on the declared 255x255 input: make the dims symbolic for it.
        m = onnx.load(bb)
        for d, name in zip(m.graph.input[0].type.tensor_type.shape.dim[2:], ["H", "W"]):
            d.dim_param = name
        dyn = os.path.join(out, f"{v}_backbone_dynamic.onnx")
        onnx.save(m, dyn)
        x255 = rng.uniform(0, 255, (1, 3, 255, 255)).astype(np.float32)
        x127 = rng.uniform(0, 255, (1, 3, 127, 127)).astype(np.float32)
        c255 = write_case(out, f"{v}_backbone_255", dyn, {"input": x255})
        c127 = write_case(out, f"{v}_backbone_127", dyn, {"input": x127})
        c255["model"] = bb
        c127["model"] = bb
        cases += [c255, c127]
        zf = np.fromfile(c127["outputs"][0]["file"], "<f4").reshape(c127["outputs"][0]["shape"])
        xf = np.fromfile(c255["outputs"][0]["file"], "<f4").reshape(c255["outputs"][0]["shape"])
        cases.append(write_case(out, f"{v}_head", hd, {"input1": zf, "input2": xf}))
    return cases


def bad_models(out):
    """Models the engine must reject with a clear error (file name, node, op)."""
    d = os.path.join(out, "bad")
    os.makedirs(d, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)

    def save(name, nodes, opset=17, inits=(), domain_opsets=()):
        g = helper.make_graph(nodes, name, [x], [y], list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)] + [helper.make_opsetid(dm, v) for dm, v in domain_opsets])
        m.ir_version = 8
        path = os.path.join(d, name + ".onnx")
        onnx.save(m, path)
        return path

    return {
        "unsupported_op": save("unsupported_op", [helper.make_node("Relu", ["x"], ["r"], name="ok_relu"),
                                                  helper.make_node("Resize", ["r"], ["y"], name="the_resize")]),
        "old_opset": save("old_opset", [helper.make_node("Relu", ["x"], ["y"], name="relu")], opset=3),
        "custom_domain": save("custom_domain", [helper.make_node("Foo", ["x"], ["y"], name="foo", domain="com.example")],
                              domain_opsets=[("com.example", 1)]),
        "missing_input": save("missing_input", [helper.make_node("Add", ["x", "nowhere"], ["y"], name="add_missing")]),
        "bad_weight_shape": save("bad_weight_shape", [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv_bad")],
                                 inits=[numpy_helper.from_array(f32(4, 3, 3, 3), "w"), numpy_helper.from_array(f32(5), "b")]),
        "wrong_channels": save("wrong_channels", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_ch")],
                               inits=[numpy_helper.from_array(f32(4, 2, 3, 3), "w")]),
    }


def main():
    out = sys.argv[1]
    models = sys.argv[sys.argv.index("--models") + 1] if "--models" in sys.argv else \
        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "models")
    os.makedirs(out, exist_ok=True)
    cases = op_cases(out) + [shape_chain_case(out)] + nanotrack_cases(out, models)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"onnxruntime": ort.__version__, "cases": cases, "bad": bad_models(out)}, f, indent=1)
    print(f"{len(cases)} cases written to {out}")


if __name__ == "__main__":
    main()
