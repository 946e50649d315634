/// What the engine runs, op by op: the ONNX versions reviewed, the attributes handled, the
/// element types, and what is rejected. The parser checks every node against this table (an
/// attribute not listed is an error that names it), and `etrack onnx operators` prints it as
/// docs/onnx/operators.md, so the page cannot drift from the code.
public struct OperatorSupport: Sendable {
    public let name: String
    /// The op's ONNX versions (`since_version`s) up to `OperatorCatalog.newestOpset`. Every one
    /// was reviewed: the versions after the first we run only add element types or move
    /// attributes to inputs, which the parser handles.
    public let versions: [Int]
    /// Attributes the parser reads. Any other attribute on a node is an error.
    public let attributes: [String]
    /// Element types, in words.
    public let types: String
    /// Limits and rejections, in words (each backed by an error in the parser or the planner).
    public let notes: String

    /// The version of this op a model importing `opset` uses.
    public func version(atOpset opset: Int) -> Int? { versions.last { $0 <= opset } }
}

public enum OperatorCatalog {
    /// The oldest and newest default-domain opsets a model may import. 28 is the newest opset of
    /// onnx 1.23.2 (the pinned reference package, `onnx.defs.onnx_opset_version()`).
    public static let oldestOpset = 7
    public static let newestOpset = 28

    static let float = "float32 (float64 constants are read as float32)"
    static let floatInt = "float32 at run time; integer and bool values (int8–int64, uint8–uint32, bool) when known at plan time"
    static let any = "any type we read: float32 at run time, integers and bool as plan-time values"

    public static let all: [OperatorSupport] = [
        .init(name: "Abs", versions: [1, 6, 13], attributes: [], types: floatInt, notes: ""),
        .init(name: "Add", versions: [1, 6, 7, 13, 14], attributes: [], types: floatInt, notes: "NumPy broadcasting."),
        .init(name: "BatchNormalization", versions: [1, 6, 7, 9, 14, 15], attributes: ["epsilon", "momentum", "spatial", "training_mode"], types: float,
              notes: "Any batch size. Inference form (1 output) with constant statistics folds into the preceding Conv; `training_mode=1` computes batch statistics and the optional running-mean/variance outputs (`momentum`). `spatial=0` (opset < 9) is rejected, and so are optional outputs before opset 14 (their meaning differed) or without `training_mode=1`. Scale, bias, mean and variance may be run-time inputs."),
        .init(name: "Cast", versions: [1, 6, 9, 13, 19, 21, 23, 24, 25, 28], attributes: ["to", "saturate", "round_mode"], types: any,
              notes: "Casts of run-time float32 tensors to float32/float64 run; casts of plan-time values to any type we hold fold (float → int truncates toward zero, integers, and floats through int64, wrap to the target width). A run-time float32 tensor cast to an integer or bool type is rejected (integers exist only at plan time). Casts to types we do not hold (string, float16, bfloat16, float8/4, int4/2, uint64, complex) are rejected by name. `saturate` and `round_mode` only affect float8/float4 targets, which are rejected."),
        .init(name: "Clip", versions: [1, 6, 11, 12, 13], attributes: ["min", "max"], types: floatInt,
              notes: "min/max as attributes (opset < 11) or inputs: constants fuse into the preceding Conv/Gemm/MatMul, run-time bounds run as Max then Min."),
        .init(name: "Concat", versions: [1, 4, 11, 13], attributes: ["axis"], types: floatInt, notes: "`axis` is required."),
        .init(name: "Constant", versions: [1, 9, 11, 12, 13, 19, 21, 23, 24, 25], attributes: ["value", "value_float", "value_floats", "value_int", "value_ints"],
              types: any, notes: "`sparse_value`, `value_string` and `value_strings` are rejected."),
        .init(name: "ConstantOfShape", versions: [9, 20, 21, 23, 24, 25], attributes: ["value"], types: any,
              notes: "The shape must be known at plan time; the output takes the type of `value` (float32 by default)."),
        .init(name: "Conv", versions: [1, 11, 22], attributes: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"], types: float,
              notes: "1-D (NCL, run as height 1) and 2-D (NCHW), any batch size; 3-D convolutions are rejected. Weights and bias may be computed at run time. `auto_pad` NOTSET, VALID, SAME_UPPER, SAME_LOWER."),
        .init(name: "Div", versions: [1, 6, 7, 13, 14], attributes: [], types: floatInt, notes: "Integer division truncates toward zero; division by integer zero gives 0."),
        .init(name: "Erf", versions: [9, 13], attributes: [], types: float, notes: ""),
        .init(name: "Exp", versions: [1, 6, 13], attributes: [], types: float, notes: ""),
        .init(name: "Flatten", versions: [1, 9, 11, 13, 21, 23, 24, 25], attributes: ["axis"], types: floatInt, notes: "A view: no copy."),
        .init(name: "Gather", versions: [1, 11, 13], attributes: ["axis"], types: floatInt, notes: "Indices must be known at plan time (constants or integer inputs); negative indices count from the end."),
        .init(name: "Gelu", versions: [20], attributes: ["approximate"], types: float, notes: "`approximate` 'none' (erf) or 'tanh'."),
        .init(name: "Gemm", versions: [1, 6, 7, 9, 11, 13], attributes: ["alpha", "beta", "transA", "transB"], types: float, notes: "C broadcasts to M×N."),
        .init(name: "GlobalAveragePool", versions: [1, 22], attributes: [], types: float, notes: "Any rank ≥ 3, any batch size."),
        .init(name: "HardSigmoid", versions: [1, 6, 22], attributes: ["alpha", "beta"], types: float, notes: ""),
        .init(name: "HardSwish", versions: [14, 22], attributes: [], types: float, notes: ""),
        .init(name: "Identity", versions: [1, 13, 14, 16, 19, 21, 23, 24, 25], attributes: [], types: floatInt, notes: "Tensors only (sequence and optional inputs are rejected)."),
        .init(name: "LayerNormalization", versions: [17], attributes: ["axis", "epsilon", "stash_type"], types: float,
              notes: "The optional `Mean` and `InvStdDev` outputs are computed when asked for. `stash_type` other than 1 (float32) is rejected."),
        .init(name: "Log", versions: [1, 6, 13], attributes: [], types: float, notes: ""),
        .init(name: "MatMul", versions: [1, 9, 13], attributes: [], types: float, notes: "Batched, with broadcasting; 1-D operands as NumPy."),
        .init(name: "Max", versions: [1, 6, 8, 12, 13], attributes: [], types: floatInt, notes: "1 or more inputs, broadcasting."),
        .init(name: "Mean", versions: [1, 6, 8, 13], attributes: [], types: float, notes: "1 or more inputs, broadcasting."),
        .init(name: "Min", versions: [1, 6, 8, 12, 13], attributes: [], types: floatInt, notes: "1 or more inputs, broadcasting."),
        .init(name: "Mul", versions: [1, 6, 7, 13, 14], attributes: [], types: floatInt, notes: "NumPy broadcasting."),
        .init(name: "Neg", versions: [1, 6, 13], attributes: [], types: floatInt, notes: ""),
        .init(name: "Pow", versions: [1, 7, 12, 13, 15], attributes: [], types: floatInt, notes: "NumPy broadcasting."),
        .init(name: "Reciprocal", versions: [1, 6, 13], attributes: [], types: float, notes: ""),
        .init(name: "Relu", versions: [1, 6, 13, 14], attributes: [], types: floatInt, notes: ""),
        .init(name: "Reshape", versions: [1, 5, 13, 14, 19, 21, 23, 24, 25], attributes: ["allowzero"], types: floatInt,
              notes: "The target shape must be known at plan time. The `shape` attribute of opset < 5 is rejected."),
        .init(name: "Shape", versions: [1, 13, 15, 19, 21, 23, 24, 25], attributes: ["start", "end"], types: any, notes: "Always known at plan time."),
        .init(name: "Sigmoid", versions: [1, 6, 13], attributes: [], types: float, notes: ""),
        .init(name: "Slice", versions: [1, 10, 11, 13], attributes: ["starts", "ends", "axes"], types: floatInt,
              notes: "starts/ends/axes/steps as attributes (opset < 10) or inputs known at plan time. A view where the reader allows."),
        .init(name: "Softmax", versions: [1, 11, 13], attributes: ["axis"], types: float, notes: "Opset < 13 flattens to 2-D at `axis`, as the spec says."),
        .init(name: "Sqrt", versions: [1, 6, 13], attributes: [], types: float, notes: ""),
        .init(name: "Squeeze", versions: [1, 11, 13, 21, 23, 24, 25], attributes: ["axes"], types: floatInt, notes: "Axes as attribute (opset < 13) or an input known at plan time."),
        .init(name: "Sub", versions: [1, 6, 7, 13, 14], attributes: [], types: floatInt, notes: "NumPy broadcasting."),
        .init(name: "Sum", versions: [1, 6, 8, 13], attributes: [], types: floatInt, notes: "1 or more inputs, broadcasting."),
        .init(name: "Tanh", versions: [1, 6, 13], attributes: [], types: float, notes: ""),
        .init(name: "Transpose", versions: [1, 13, 21, 23, 24, 25], attributes: ["perm"], types: floatInt, notes: "A view where the reader allows."),
        .init(name: "Unsqueeze", versions: [1, 11, 13, 21, 23, 24, 25], attributes: ["axes"], types: floatInt, notes: "Axes as attribute (opset < 13) or an input known at plan time."),
    ]

    static let byName: [String: OperatorSupport] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The op types the engine runs, sorted (for error messages).
    public static var names: [String] { all.map(\.name) }

    public static func support(_ opType: String) -> OperatorSupport? { byName[opType] }

    /// docs/onnx/operators.md.
    public static func markdown() -> String {
        var s = """
        # ONNX operators

        Generated by `etrack onnx operators` from `Sources/ETONNX/Graph/OperatorCatalog.swift`; a test
        checks that this page matches the code. Models may import default-domain opsets \(oldestOpset) to
        \(newestOpset) (the newest of onnx 1.23.2). Each op's versions up to opset \(newestOpset) are listed;
        every listed version runs. The engine computes in float32. Integer and bool tensors (shapes, axes,
        indices, and integer graph inputs) are values known when the plan is built, and every op on
        them is evaluated then. An attribute not listed for an op is an error that names it; so is an
        op from another domain or not in this table, with the domain and opset the model imports.
        How well each op does on the ONNX project's own node tests is in [conformance.md](conformance.md).

        | op | versions | attributes | types | notes |
        |---|---|---|---|---|

        """
        for o in all {
            let attrs = o.attributes.isEmpty ? "–" : o.attributes.map { "`\($0)`" }.joined(separator: ", ")
            s += "| \(o.name) | \(o.versions.map(String.init).joined(separator: ", ")) | \(attrs) | \(o.types) | \(o.notes) |\n"
        }
        return s
    }
}
