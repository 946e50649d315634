import ETCore
@testable import ETONNX
import Foundation

/// Graphs written with `ONNXGraphBuilder` for the writer tests: the ops EfficientTrack/VitTrack
/// export needs, in small awkward sizes. Each case says whether our engine runs it (it has no
/// ReduceMean/Split) and whether OpenCV's importer is tried on it.
struct WriterCase {
    var name: String
    var model: ONNXModelDefinition
    var inputs: [(name: String, shape: [Int])]
    var ourEngine = true
    var opencv = false
    /// Reference outputs computed in Swift, for cases our engine cannot run.
    var expected: (([String: Tensor]) -> [String: Tensor])? = nil
}

/// Deterministic test data (a 64-bit LCG; the writer tests do not depend on ETNN's generator).
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000  // [-1, 1]
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in next() * scale })
    }
}

enum WriterCases {
    static func all() -> [WriterCase] {
        var r = TestRandom(42)
        return [convStem(&r), gemmChain(&r), layerNormBlock(&r), attention(&r), elementwise(&r), geluOpset20(),
                constants(&r), reduceSplit(opset: 17), reduceSplit(opset: 18), symbolicAndMetadata(&r)]
    }

    /// Conv 3x3 s2 p1 + HardSwish, depthwise 3x3 with asymmetric pads, 1x1 without bias + Relu, Conv 2x2 s2.
    static func convStem(_ r: inout TestRandom) -> WriterCase {
        var g = ONNXGraphBuilder(name: "conv_stem")
        let x = g.input("search", dims: [1, 3, 17, 16])
        var y = g.conv(x, weight: g.initializer("stem.0.weight", r.tensor([8, 3, 3, 3], scale: 0.5)),
                       bias: g.initializer("stem.0.bias", r.tensor([8])), strides: [2, 2], pads: [1, 1, 1, 1], name: "stem.0")
        y = g.hardSwish(y, name: "stem.0.act")
        y = g.conv(y, weight: g.initializer("dw.weight", r.tensor([8, 1, 3, 3])), bias: g.initializer("dw.bias", r.tensor([8])),
                   pads: [0, 1, 2, 1], groups: 8, name: "dw")
        y = g.conv(y, weight: g.initializer("pw.weight", r.tensor([12, 8, 1, 1], scale: 0.3)), name: "pw")
        y = g.relu(y)
        y = g.conv(y, weight: g.initializer("down.weight", r.tensor([6, 12, 2, 2], scale: 0.3)),
                   bias: g.initializer("down.bias", r.tensor([6])), strides: [2, 2], name: "down")
        g.output(y, as: "output1", dims: [1, 6, 4, 4])
        return WriterCase(name: "conv_stem", model: g.model(), inputs: [("search", [1, 3, 17, 16])], opencv: true)
    }

    /// Gemm (transB, bias) → Relu → Gemm (alpha, beta, matrix C) → Sigmoid → HardSigmoid.
    static func gemmChain(_ r: inout TestRandom) -> WriterCase {
        var g = ONNXGraphBuilder(name: "gemm_chain")
        let x = g.input("x", dims: [3, 40])
        var y = g.gemm(x, g.initializer("fc1.weight", r.tensor([24, 40], scale: 0.2)), g.initializer("fc1.bias", r.tensor([24])),
                       transB: true, name: "fc1")
        y = g.relu(y)
        y = g.gemm(y, g.initializer("fc2.weight", r.tensor([24, 5], scale: 0.3)), g.initializer("fc2.c", r.tensor([3, 5])),
                   alpha: 0.5, beta: 2, name: "fc2")
        y = g.sigmoid(y)
        y = g.hardSigmoid(y, alpha: 0.7, beta: 0.1)
        g.output(y, as: "y", dims: [3, 5])
        return WriterCase(name: "gemm_chain", model: g.model(), inputs: [("x", [3, 40])], opencv: true)
    }

    /// A ViT MLP: LayerNorm → Linear → GELU (opset 17 erf form) → Linear → residual Add.
    static func layerNormBlock(_ r: inout TestRandom) -> WriterCase {
        var g = ONNXGraphBuilder(name: "ln_mlp")
        let x = g.input("tokens", dims: [1, 10, 16])
        var y = g.layerNormalization(x, scale: g.initializer("norm.weight", r.tensor([16])),
                                     bias: g.initializer("norm.bias", r.tensor([16])), epsilon: 1e-6, name: "norm")
        y = g.linear(y, weight: r.tensor([32, 16], scale: 0.3), bias: r.tensor([32]), name: "mlp.fc1")
        y = g.gelu(y, name: "mlp.act")
        y = g.linear(y, weight: r.tensor([16, 32], scale: 0.3), bias: r.tensor([16]), name: "mlp.fc2")
        y = g.add(x, y, name: "residual")
        g.output(y, dims: [1, 10, 16])
        return WriterCase(name: "ln_mlp", model: g.model(), inputs: [("tokens", [1, 10, 16])], opencv: true)
    }

    /// Multi-head self-attention as PyTorch exports it: qkv Linear, Reshape/Transpose, Slice,
    /// MatMul, scale, Softmax, MatMul, Transpose/Reshape, projection.
    static func attention(_ r: inout TestRandom) -> WriterCase {
        let (t, c, h) = (7, 16, 2)      // tokens, channels, heads
        let d = c / h
        var g = ONNXGraphBuilder(name: "attention")
        let x = g.input("tokens", dims: [1, t, c])
        var qkv = g.linear(x, weight: r.tensor([3 * c, c], scale: 0.4), bias: r.tensor([3 * c]), name: "attn.qkv")
        qkv = g.reshape(qkv, [1, t, 3, h, d])
        qkv = g.transpose(qkv, perm: [2, 0, 3, 1, 4])            // (3, 1, h, t, d)
        func part(_ g: inout ONNXGraphBuilder, _ k: Int) -> String {
            g.reshape(g.slice(qkv, starts: [k], ends: [k + 1], axes: [0], steps: [1]), [1, h, t, d])
        }
        let q = part(&g, 0), k = part(&g, 1), v = part(&g, 2)
        var a = g.matMul(q, g.transpose(k, perm: [0, 1, 3, 2]))
        a = g.mul(a, g.scalar(1 / Float(d).squareRoot()))
        a = g.softmax(a, axis: -1)
        var y = g.matMul(a, v)                                   // (1, h, t, d)
        y = g.transpose(y, perm: [0, 2, 1, 3])
        y = g.reshape(y, [1, t, c])
        y = g.linear(y, weight: r.tensor([c, c], scale: 0.3), bias: r.tensor([c]), name: "attn.proj")
        g.output(y, as: "out", dims: [1, t, c])
        return WriterCase(name: "attention", model: g.model(), inputs: [("tokens", [1, t, c])])
    }

    /// Add/Sub/Mul/Div/Pow/Sqrt/Concat with broadcasting, two outputs.
    static func elementwise(_ r: inout TestRandom) -> WriterCase {
        var g = ONNXGraphBuilder(name: "elementwise")
        let a = g.input("a", dims: [2, 3, 4]), b = g.input("b", dims: [2, 1, 4])
        let s = g.add(a, b), d = g.sub(a, b)
        let den = g.add(g.mul(b, b), g.scalar(1))
        let q = g.div(s, den)
        let p = g.pow(d, g.scalar(2))
        let root = g.sqrt(g.add(p, g.initializer("offset", Tensor(shape: [4], data: r.tensor([4]).data.map { abs($0) * 0.1 }))))
        let cat = g.concat([q, root, g.hardSwish(a)], axis: 1)
        g.output(cat, as: "cat", dims: [2, 9, 4])
        g.output(d, as: "diff", dims: [2, 3, 4])
        return WriterCase(name: "elementwise", model: g.model(), inputs: [("a", [2, 3, 4]), ("b", [2, 1, 4])])
    }

    /// Opset 20 writes GELU as a single node (IR version 9).
    static func geluOpset20() -> WriterCase {
        var g = ONNXGraphBuilder(name: "gelu20", opset: 20)
        let x = g.input("x", dims: [3, 11])
        g.output(g.gelu(x), as: "y", dims: [3, 11])
        return WriterCase(name: "gelu_opset20", model: g.model(), inputs: [("x", [3, 11])])
    }

    /// Constant nodes (float tensor and int64 shape) and an input passed straight to an output.
    static func constants(_ r: inout TestRandom) -> WriterCase {
        var g = ONNXGraphBuilder(name: "constants")
        let x = g.input("x", dims: [2, 6])
        let c = g.constant(ONNXTensorValue(dims: [1, 6], floats: r.tensor([1, 6]).data), name: "bias_const")
        let shape = g.constant(ONNXTensorValue(dims: [3], int64s: [3, 2, 2]))
        let y = g.node("Reshape", [g.add(x, c), shape])[0]
        g.output(y, as: "y", dims: [3, 2, 2])
        g.output(x, as: "x_copy", dims: [2, 6])
        return WriterCase(name: "constants", model: g.model(), inputs: [("x", [2, 6])])
    }

    /// ReduceMean (attribute form at 17, input form at 18) and Split: ONNX Runtime only,
    /// checked against a Swift reference.
    static func reduceSplit(opset: Int) -> WriterCase {
        var g = ONNXGraphBuilder(name: "reduce_split_\(opset)", opset: opset)
        let x = g.input("x", dims: [2, 6, 4])
        let m = g.reduceMean(x, axes: [2], keepDims: true)          // (2, 6, 1)
        let parts = g.split(m, axis: 1, sizes: [2, 4])
        g.output(parts[0], as: "head", dims: [2, 2, 1])
        g.output(parts[1], as: "tail", dims: [2, 4, 1])
        let reference: ([String: Tensor]) -> [String: Tensor] = { feeds in
            let x = feeds["x"]!
            var head = [Float](), tail = [Float]()
            for b in 0..<2 {
                for c in 0..<6 {
                    let mean = (0..<4).map { x.data[(b * 6 + c) * 4 + $0] }.reduce(0, +) / 4
                    if c < 2 { head.append(mean) } else { tail.append(mean) }
                }
            }
            return ["head": Tensor(shape: [2, 2, 1], data: head), "tail": Tensor(shape: [2, 4, 1], data: tail)]
        }
        return WriterCase(name: "reduce_split_opset\(opset)", model: g.model(), inputs: [("x", [2, 6, 4])],
                          ourEngine: false, expected: reference)
    }

    /// A symbolic batch dim, value_info, metadata_props and a producer version.
    static func symbolicAndMetadata(_ r: inout TestRandom) -> WriterCase {
        var g = ONNXGraphBuilder(name: "metadata")
        let x = g.input("x", shape: [.symbol("N"), .value(4)])
        let h = g.gemm(x, g.initializer("w", r.tensor([4, 3])), name: "fc")
        g.annotate(h, dims: [2, 3])
        g.output(g.relu(h), as: "y", shape: [.symbol("N"), .value(3)])
        let m = g.model(metadata: [("etrack.config", "et-128-fgaf3-bn"), ("etrack.mean", "0.485,0.456,0.406"),
                                   ("note", "ünïcode ✓")], producerVersion: "0.3")
        return WriterCase(name: "metadata", model: m, inputs: [("x", [2, 4])])
    }
}
