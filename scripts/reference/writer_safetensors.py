#!/usr/bin/env python3
"""Cross-checks EfficientTrack's safetensors reader/writer (Sources/ETNN/Weights) against the
`safetensors` PyPI package (pip install safetensors numpy).

  writer_safetensors.py write DIR
      Writes with safetensors.numpy.save_file:
        DIR/mixed.safetensors   F32, F16 (normal, subnormal, inf-free), F64 tensors, a 0-d and an
                                empty tensor, and __metadata__;
        DIR/bf16.safetensors    BF16 (numpy has no bfloat16: the bytes are the top halves of
                                float32 values, written through a uint16 view and the header
                                patched to "BF16");
        DIR/f32_only.safetensors F32 tensors and one metadata key (for byte-for-byte comparison);
      and DIR/expected.json with every tensor's shape and float32 values (repr, exact).
  writer_safetensors.py read FILE [REWRITTEN]
      Loads FILE with safetensors (numpy) and prints JSON {"tensors": {name: {"dtype", "shape",
      "values"}}, "metadata": {...}}. With REWRITTEN, saves the loaded tensors and metadata with
      save_file there, for a byte comparison.
Exit status 3 when the safetensors package is missing (the Swift test then skips).
"""
import json
import os
import struct
import sys

try:
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file
except ImportError as e:  # reported to the caller, which skips with this message
    print(f"safetensors not available: {e}")
    sys.exit(3)

rng = np.random.default_rng(5)


def values(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def write(d):
    os.makedirs(d, exist_ok=True)
    expected = {}
    t = {
        "blocks.0.attn.qkv.weight": rng.standard_normal((6, 4)).astype(np.float32),
        "blocks.0.attn.qkv.bias": rng.standard_normal(6).astype(np.float32),
        "half": np.array([1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, 0.0, -0.0, 0.333], dtype=np.float16),
        "double": np.array([[1e-3, -7.25], [3.141592653589793, 1e10]], dtype=np.float64),
        "scalar": np.array(0.75, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "ünï.name": np.arange(3, dtype=np.float32),
    }
    save_file(t, os.path.join(d, "mixed.safetensors"), metadata={"config": "et-128-fgaf3-bn", "seed": "7", "quote\"s": "a\\b"})
    expected["mixed"] = {"metadata": {"config": "et-128-fgaf3-bn", "seed": "7", "quote\"s": "a\\b"},
                         "tensors": {k: {"shape": list(v.shape), "values": values(v)} for k, v in t.items()}}

    f32 = rng.standard_normal((3, 5)).astype(np.float32)
    top = (f32.view(np.uint32) >> 16).astype(np.uint16)
    path = os.path.join(d, "bf16.safetensors")
    save_file({"w": top}, path)
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = raw[8:8 + n].decode().rstrip().replace('"U16"', '"BF16"').encode()
    header += b" " * (-len(header) % 8)
    open(path, "wb").write(struct.pack("<Q", len(header)) + header + raw[8 + n:])
    bf = (top.astype(np.uint32) << 16).view(np.float32)
    expected["bf16"] = {"metadata": {}, "tensors": {"w": {"shape": [3, 5], "values": values(bf)}}}

    f = {"b": rng.standard_normal((2, 3)).astype(np.float32), "a": rng.standard_normal(4).astype(np.float32)}
    save_file(f, os.path.join(d, "f32_only.safetensors"), metadata={"format": "pt"})
    expected["f32_only"] = {"metadata": {"format": "pt"},
                            "tensors": {k: {"shape": list(v.shape), "values": values(v)} for k, v in f.items()}}
    json.dump(expected, open(os.path.join(d, "expected.json"), "w"))


def read(path, rewritten=None):
    tensors = load_file(path)
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
    out = {"tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": values(v)} for k, v in tensors.items()},
           "metadata": metadata}
    if rewritten:
        save_file(tensors, rewritten, metadata=metadata or None)
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "read":
        read(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        print(__doc__)
        sys.exit(2)
