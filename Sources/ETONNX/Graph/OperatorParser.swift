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

        guard let support = OperatorCatalog.support(n.opType) else { throw fail("unsupported op") }
        guard support.version(atOpset: opset) != nil else {
            throw fail("\(n.opType) does not exist at opset \(opset) (its first version is \(support.versions[0]))")
        }
        for key in n.attributes.keys.sorted() where !support.attributes.contains(key) {
            throw fail("attribute '\(key)' is not handled (\(n.opType) handles \(support.attributes.isEmpty ? "no attributes" : support.attributes.joined(separator: ", ")))")
        }
        guard !n.inputs.isEmpty, !n.outputs.isEmpty, !n.inputs[0].isEmpty else { throw fail("needs at least one input and one output") }
        func onlyOutputs(_ k: Int) throws {
            for (i, o) in n.outputs.enumerated() where i >= k && !o.isEmpty {
                throw fail("optional output \(i) ('\(o)') is not computed")
            }
        }
        if !["BatchNormalization", "LayerNormalization"].contains(n.opType) { try onlyOutputs(1) }
        switch n.opType {
        case "Conv":
            try needInputs(2, 3)
            var a = ConvAttributes()
            let kernel = try ints("kernel_shape"), strides = try ints("strides"), dilations = try ints("dilations"), pads = try ints("pads")
            // Spatial rank from whichever attributes are given (else the weight decides): 1-D
            // convolutions run as 2-D ones of height 1.
            let ranks = Set([kernel?.count, strides?.count, dilations?.count, pads.map { $0.count / 2 }].compactMap { $0 })
            guard ranks.count <= 1, pads.map({ $0.count % 2 == 0 }) ?? true else {
                throw fail("kernel_shape, strides, dilations and pads disagree on the number of spatial axes")
            }
            if let r = ranks.first, r != 1 && r != 2 { throw fail("only 1-D and 2-D convolutions are supported (\(r) spatial axes)") }
            let oneD = ranks.first == 1
            a.kernel = kernel.map { oneD ? [1] + $0 : $0 }
            a.strides = strides.map { oneD ? [1] + $0 : $0 } ?? [1, 1]
            a.dilations = dilations.map { oneD ? [1] + $0 : $0 } ?? [1, 1]
            if let p = pads { a.pads = oneD ? [0, p[0], 0, p[1]] : p }  // ONNX: [x1_begin, x2_begin, x1_end, x2_end]
            a.spatialRank = ranks.first
            a.group = try int("group", 1)
            a.autoPad = try string("auto_pad", "NOTSET")
            guard a.group >= 1 else { throw fail("group must be >= 1") }
            guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(a.autoPad) else {
                throw fail("unknown auto_pad '\(a.autoPad)'")
            }
            return .conv(a, activation: .identity)
        case "BatchNormalization":
            try needInputs(5, 5)
            if try int("spatial", 1) != 1 { throw fail("spatial=0 (per-activation statistics) is not supported") }
            let training = try int("training_mode", 0)
            guard training == 0 || training == 1 else { throw fail("training_mode=\(training) is not 0 or 1") }
            if opset < 14 && n.outputs.count > 1 {
                throw fail("the optional outputs of BatchNormalization before opset 14 (running and saved statistics) are not supported")
            }
            if training == 0 { try onlyOutputs(1) } else { try onlyOutputs(3) }
            return .batchNorm(epsilon: try float("epsilon", 1e-5), momentum: try float("momentum", 0.9), training: training == 1)
        case "Gemm":
            try needInputs(2, 3)
            return .gemm(alpha: try float("alpha", 1), beta: try float("beta", 1),
                         transA: try int("transA", 0) != 0, transB: try int("transB", 0) != 0, activation: .identity)
        case "MatMul":
            try needInputs(2, 2)
            return .matMul(activation: .identity)
        case "Add", "Sub", "Mul", "Div", "Pow":
            try needInputs(2, 2)
            return .binary(BinaryOp(rawValue: n.opType)!)
        case "Max", "Min", "Sum", "Mean":
            guard n.inputs.allSatisfy({ !$0.isEmpty }) else { throw fail("an input name is empty") }
            let op: BinaryOp = n.opType == "Max" ? .max : n.opType == "Min" ? .min : .add
            if n.inputs.count == 2 && n.opType != "Mean" { return .binary(op) }
            return .nary(op, mean: n.opType == "Mean")
        case "Relu": return .unary(.activation(.relu))
        case "Sigmoid": return .unary(.activation(.sigmoid))
        case "HardSwish": return .unary(.activation(.hardSwish))
        case "HardSigmoid":
            return .unary(.activation(.hardSigmoid(alpha: try float("alpha", 0.2), beta: try float("beta", 0.5))))
        case "Gelu":
            let approx = try string("approximate", "none")
            switch approx {
            case "none": return .unary(.activation(.gelu))
            case "tanh": return .unary(.geluTanh)
            default: throw fail("approximate='\(approx)' is not 'none' or 'tanh'")
            }
        case "Clip":
            var lo = -Float.infinity, hi = Float.infinity
            if opset < 11 {
                lo = try float("min", lo); hi = try float("max", hi)
            } else {
                try needInputs(1, 3)
                // Bounds known only at plan time (graph inputs): the planner resolves them.
                let known = (1..<n.inputs.count).allSatisfy { n.inputs[$0].isEmpty || constants[n.inputs[$0]] != nil }
                if !known { return .clip }
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
            try onlyOutputs(3)
            let stash = try int("stash_type", 1)
            guard stash == 1 else { throw fail("stash_type=\(stash) is not supported (only 1, float32)") }
            return .layerNorm(axis: try int("axis", -1), epsilon: try float("epsilon", 1e-5))
        case "Shape":
            return .shape(start: try int("start", 0), end: n.attributes["end"] == nil ? nil : try int("end", 0))
        case "Gather": return .gather(axis: try int("axis", 0))
        case "Cast":
            guard case let .int(to)? = n.attributes["to"] else { throw fail("missing attribute 'to'") }
            guard let t = ONNXDataType(rawValue: to), t != .float16 else {
                throw fail("casting to \(ONNXDataType.describe(to)) is not supported (float32/64, int8/16/32/64, uint8/16/32, bool are)")
            }
            return .cast(to: to)
        case "ConstantOfShape":
            try needInputs(1, 1)
            var v = ConstantValue(shape: [1], floats: [0])
            if let a = n.attributes["value"] {
                guard case let .tensor(t) = a else { throw fail("attribute 'value' should be a tensor") }
                v = try ConstantValue(t)
                guard v.count == 1 else { throw fail("attribute 'value' must hold one element, has shape \(v.shape)") }
            }
            return .constantOfShape(value: v)
        default:
            throw fail("unsupported op")
        }
    }
}
