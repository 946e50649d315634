import ETCore

/// Turns an ONNX node into an `Operator`, checking its attributes. Errors name the node and op;
/// the caller adds the file name.
struct OperatorParser {
    let opset: Int
    /// Constants known at load time (initializers and Constant nodes), for inputs that must be constant.
    let constants: [String: ConstantValue]

    func parse(_ n: ONNXNodeProto) throws -> Operator {
        func fail(_ why: String) -> ONNXError { ONNXError("node '\(n.name)' (\(n.opType)): \(why)") }
        func int(_ k: String, _ d: Int) throws -> Int {
            guard let a = n.attributes[k] else { return d }
            guard case let .int(v) = a else { throw fail("attribute '\(k)' should be an integer") }
            return Int(v)
        }
        func float(_ k: String, _ d: Float) throws -> Float {
            guard let a = n.attributes[k] else { return d }
            guard case let .float(v) = a else { throw fail("attribute '\(k)' should be a float") }
            return v
        }
        func ints(_ k: String) throws -> [Int]? {
            guard let a = n.attributes[k] else { return nil }
            guard case let .ints(v) = a else { throw fail("attribute '\(k)' should be a list of integers") }
            return v.map { Int($0) }
        }
        func string(_ k: String, _ d: String) throws -> String {
            guard let a = n.attributes[k] else { return d }
            guard case let .string(v) = a else { throw fail("attribute '\(k)' should be a string") }
            return v
        }
        func constScalar(_ index: Int) throws -> Float? {
            guard index < n.inputs.count, !n.inputs[index].isEmpty else { return nil }
            guard let c = constants[n.inputs[index]] else {
                throw fail("input \(index) ('\(n.inputs[index])') must be a constant")
            }
            guard c.count == 1 else { throw fail("input \(index) must be a scalar, has shape \(c.shape)") }
            return c.asFloats[0]
        }
        func needInputs(_ lo: Int, _ hi: Int) throws {
            let k = n.inputs.count
            guard k >= lo && k <= hi else { throw fail("expects \(lo)...\(hi) inputs, has \(k)") }
        }

        guard !n.inputs.isEmpty, !n.outputs.isEmpty, !n.inputs[0].isEmpty else { throw fail("needs at least one input and one output") }
        switch n.opType {
        case "Conv":
            try needInputs(2, 3)
            var a = ConvAttributes()
            a.kernel = try ints("kernel_shape")
            a.strides = try ints("strides") ?? [1, 1]
            a.dilations = try ints("dilations") ?? [1, 1]
            a.group = try int("group", 1)
            a.autoPad = try string("auto_pad", "NOTSET")
            if let p = try ints("pads") {
                guard p.count == 4 else { throw fail("only 2-D convolutions are supported (pads \(p))") }
                a.pads = [p[0], p[1], p[2], p[3]]  // ONNX: [top, left, bottom, right]
            }
            guard a.strides.count == 2, a.dilations.count == 2, a.kernel.map({ $0.count == 2 }) ?? true else {
                throw fail("only 2-D convolutions are supported")
            }
            guard a.group >= 1 else { throw fail("group must be >= 1") }
            guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(a.autoPad) else {
                throw fail("unknown auto_pad '\(a.autoPad)'")
            }
            return .conv(a, activation: .identity)
        case "BatchNormalization":
            try needInputs(5, 5)
            return .batchNorm(epsilon: try float("epsilon", 1e-5))
        case "Gemm":
            try needInputs(2, 3)
            return .gemm(alpha: try float("alpha", 1), beta: try float("beta", 1),
                         transA: try int("transA", 0) != 0, transB: try int("transB", 0) != 0, activation: .identity)
        case "MatMul":
            try needInputs(2, 2)
            return .matMul(activation: .identity)
        case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min":
            if n.opType == "Max" || n.opType == "Min" { try needInputs(2, 2) } else { try needInputs(2, 2) }
            return .binary(BinaryOp(rawValue: n.opType)!)
        case "Relu": return .unary(.activation(.relu))
        case "Sigmoid": return .unary(.activation(.sigmoid))
        case "HardSwish": return .unary(.activation(.hardSwish))
        case "HardSigmoid":
            return .unary(.activation(.hardSigmoid(alpha: try float("alpha", 0.2), beta: try float("beta", 0.5))))
        case "Gelu":
            let approx = try string("approximate", "none")
            guard approx == "none" else { throw fail("approximate='\(approx)' is not supported (only 'none')") }
            return .unary(.activation(.gelu))
        case "Clip":
            var lo = -Float.infinity, hi = Float.infinity
            if opset < 11 {
                lo = try float("min", lo); hi = try float("max", hi)
            } else {
                try needInputs(1, 3)
                lo = try constScalar(1) ?? lo; hi = try constScalar(2) ?? hi
            }
            return .unary(.activation(lo == 0 && hi == .infinity ? .relu : .clip(lo, hi)))
        case "Exp": return .unary(.exp)
        case "Log": return .unary(.log)
        case "Sqrt": return .unary(.sqrt)
        case "Neg": return .unary(.neg)
        case "Abs": return .unary(.abs)
        case "Tanh": return .unary(.tanh)
        case "Erf": return .unary(.erf)
        case "Reciprocal": return .unary(.reciprocal)
        case "GlobalAveragePool": return .globalAveragePool
        case "Reshape":
            if opset < 5 { throw fail("Reshape with a 'shape' attribute (opset < 5) is not supported") }
            try needInputs(2, 2)
            return .reshape(allowZero: try int("allowzero", 0) != 0)
        case "Flatten": return .flatten(axis: try int("axis", 1))
        case "Squeeze": return .squeeze(axes: try ints("axes"))
        case "Unsqueeze": return .unsqueeze(axes: try ints("axes"))
        case "Identity": return .identity
        case "Transpose": return .transpose(perm: try ints("perm"))
        case "Concat":
            guard n.attributes["axis"] != nil else { throw fail("missing attribute 'axis'") }
            return .concat(axis: try int("axis", 0))
        case "Slice":
            if opset < 10 {
                guard let s = try ints("starts"), let e = try ints("ends") else { throw fail("missing starts/ends") }
                return .slice(starts: s, ends: e, axes: try ints("axes"))
            }
            try needInputs(3, 5)
            return .slice(starts: nil, ends: nil, axes: nil)
        case "Softmax":
            return .softmax(axis: try int("axis", opset < 13 ? 1 : -1), coerce2D: opset < 13)
        case "LayerNormalization":
            try needInputs(2, 3)
            return .layerNorm(axis: try int("axis", -1), epsilon: try float("epsilon", 1e-5))
        case "Shape":
            return .shape(start: try int("start", 0), end: n.attributes["end"] == nil ? nil : try int("end", 0))
        case "Gather": return .gather(axis: try int("axis", 0))
        case "Cast":
            guard case let .int(to)? = n.attributes["to"] else { throw fail("missing attribute 'to'") }
            return .cast(to: to)
        case "ConstantOfShape":
            var v: Float = 0
            if case let .tensor(t)? = n.attributes["value"] { v = try t.floats().first ?? 0 }
            return .constantOfShape(value: v)
        default:
            throw fail("unsupported op")
        }
    }
}
