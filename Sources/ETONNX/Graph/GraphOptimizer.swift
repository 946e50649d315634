import ETCore

/// Load-time graph rewrites. Each pass keeps the graph's outputs bit-for-bit meaningful:
/// only exact algebraic identities (up to float rounding) are applied.
enum GraphOptimizer {
    static func optimize(_ m: ONNXModel) throws {
        foldBatchNorm(m)
        recogniseHardSigmoid(m)
        recogniseHardSwish(m)
        recogniseGELU(m)
        fuseActivations(m)
    }

    private static func consumers(_ m: ONNXModel) -> [String: [Int]] {
        var c: [String: [Int]] = [:]
        for (i, n) in m.nodes.enumerated() { for inp in n.inputs where !inp.isEmpty { c[inp, default: []].append(i) } }
        return c
    }

    /// The single node reading `value`, if exactly one does and the value is not a graph output.
    private static func soleConsumer(_ value: String, _ m: ONNXModel, _ c: [String: [Int]]) -> Int? {
        guard let list = c[value], list.count == 1, !m.outputNames.contains(value) else { return nil }
        return list[0]
    }

    private static func scalarConstant(_ name: String, _ m: ONNXModel) -> Float? {
        guard let v = m.constants[name], v.count == 1 else { return nil }
        return v.asFloats[0]
    }

    private static func removeNodes(_ m: ONNXModel, _ dead: Set<Int>) {
        m.nodes = m.nodes.enumerated().filter { !dead.contains($0.offset) }.map(\.element)
    }

    /// Conv → BatchNormalization becomes one Conv: w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β.
    static func foldBatchNorm(_ m: ONNXModel) {
        let c = consumers(m)
        var dead = Set<Int>()
        for i in m.nodes.indices {
            guard case .conv = m.nodes[i].op, let j = soleConsumer(m.nodes[i].outputs[0], m, c),
                  case let .batchNorm(eps, _, false) = m.nodes[j].op, m.nodes[j].outputs.count == 1,
                  let w = m.constants[m.nodes[i].inputs[1]], let wf = w.floats, w.shape.count == 4 else { continue }
            let bn = m.nodes[j].inputs
            guard let gamma = m.constants[bn[1]]?.asFloats, let beta = m.constants[bn[2]]?.asFloats,
                  let mean = m.constants[bn[3]]?.asFloats, let variance = m.constants[bn[4]]?.asFloats else { continue }
            let outC = w.shape[0]
            guard gamma.count == outC, beta.count == outC, mean.count == outC, variance.count == outC else { continue }
            var bias = [Float](repeating: 0, count: outC)
            if m.nodes[i].inputs.count > 2, !m.nodes[i].inputs[2].isEmpty {
                guard let b = m.constants[m.nodes[i].inputs[2]]?.floats, b.count == outC else { continue }
                bias = b
            }
            var newW = wf
            let per = wf.count / outC
            for o in 0..<outC {
                let s = gamma[o] / (variance[o] + eps).squareRoot()
                for k in 0..<per { newW[o * per + k] *= s }
                bias[o] = (bias[o] - mean[o]) * s + beta[o]
            }
            let wName = m.nodes[i].name + "::folded_weight", bName = m.nodes[i].name + "::folded_bias"
            m.constants[wName] = ConstantValue(shape: w.shape, floats: newW)
            m.constants[bName] = ConstantValue(shape: [outC], floats: bias)
            m.nodes[i].inputs = [m.nodes[i].inputs[0], wName, bName]
            m.nodes[i].outputs = m.nodes[j].outputs
            dead.insert(j)
        }
        removeNodes(m, dead)
    }

    /// Add(x, 3) → Clip(0, 6) → Div(·, 6) is hard-sigmoid(x) with α = 1/6, β = 1/2 (older exports spell it out).
    static func recogniseHardSigmoid(_ m: ONNXModel) {
        let c = consumers(m)
        var dead = Set<Int>()
        for i in m.nodes.indices where !dead.contains(i) {
            guard case .binary(.add) = m.nodes[i].op, m.nodes[i].inputs.count == 2,
                  scalarConstant(m.nodes[i].inputs[1], m) == 3,
                  let j = soleConsumer(m.nodes[i].outputs[0], m, c),
                  case .unary(.activation(.clip(0, 6))) = m.nodes[j].op,
                  let k = soleConsumer(m.nodes[j].outputs[0], m, c),
                  case .binary(.div) = m.nodes[k].op, m.nodes[k].inputs[0] == m.nodes[j].outputs[0],
                  scalarConstant(m.nodes[k].inputs[1], m) == 6 else { continue }
            m.nodes[k].op = .unary(.activation(.hardSigmoid(alpha: 1.0 / 6.0, beta: 0.5)))
            m.nodes[k].inputs = [m.nodes[i].inputs[0]]
            m.nodes[k].opType = "HardSigmoid"
            dead.insert(i); dead.insert(j)
        }
        removeNodes(m, dead)
    }

    /// Mul(x, hard-sigmoid(x)) with α = 1/6, β = 1/2 is hard-swish(x).
    static func recogniseHardSwish(_ m: ONNXModel) {
        let c = consumers(m)
        var producer: [String: Int] = [:]
        for (i, n) in m.nodes.enumerated() { for o in n.outputs { producer[o] = i } }
        var dead = Set<Int>()
        for k in m.nodes.indices {
            guard case .binary(.mul) = m.nodes[k].op, m.nodes[k].inputs.count == 2 else { continue }
            for side in 0..<2 {
                let h = m.nodes[k].inputs[side], x = m.nodes[k].inputs[1 - side]
                guard let j = producer[h], !dead.contains(j), soleConsumer(h, m, c) == k,
                      case let .unary(.activation(.hardSigmoid(a, b))) = m.nodes[j].op,
                      a == Float(1.0 / 6.0), b == 0.5, m.nodes[j].inputs[0] == x else { continue }
                m.nodes[k].op = .unary(.activation(.hardSwish))
                m.nodes[k].inputs = [x]
                m.nodes[k].opType = "HardSwish"
                dead.insert(j)
                break
            }
        }
        removeNodes(m, dead)
    }

    /// PyTorch's opset < 20 GELU, Div(x, √2) → Erf → Add(1) → Mul(x) → Mul(0.5) (operands in
    /// either order; Mul(x, 1/√2) for the Div), is one GELU activation, so it fuses into the
    /// Gemm before it instead of five passes over the MLP's widest tensor.
    static func recogniseGELU(_ m: ONNXModel) {
        let c = consumers(m)
        var dead = Set<Int>()
        func close(_ v: Float?, _ target: Float) -> Bool { v.map { abs($0 - target) <= 1e-6 * target } ?? false }
        // The other operand of a binary node whose one operand is a scalar matching `ok`.
        func operand(_ i: Int, scalar ok: (Float?) -> Bool) -> String? {
            let ins = m.nodes[i].inputs
            guard ins.count == 2 else { return nil }
            if ok(scalarConstant(ins[1], m)) && m.constants[ins[0]] == nil { return ins[0] }
            if ok(scalarConstant(ins[0], m)) && m.constants[ins[1]] == nil { return ins[1] }
            return nil
        }
        let root2 = Float(2).squareRoot()
        for i in m.nodes.indices where !dead.contains(i) {
            let x: String
            switch m.nodes[i].op {
            case .binary(.div): guard let v = operand(i, scalar: { close($0, root2) }), m.nodes[i].inputs[0] == v else { continue }; x = v
            case .binary(.mul): guard let v = operand(i, scalar: { close($0, 1 / root2) }) else { continue }; x = v
            default: continue
            }
            guard let e = soleConsumer(m.nodes[i].outputs[0], m, c), case .unary(.erf) = m.nodes[e].op,
                  let a = soleConsumer(m.nodes[e].outputs[0], m, c), case .binary(.add) = m.nodes[a].op,
                  operand(a, scalar: { $0 == 1 }) == m.nodes[e].outputs[0],
                  let p = soleConsumer(m.nodes[a].outputs[0], m, c), case .binary(.mul) = m.nodes[p].op,
                  Set(m.nodes[p].inputs) == [x, m.nodes[a].outputs[0]],
                  let h = soleConsumer(m.nodes[p].outputs[0], m, c), case .binary(.mul) = m.nodes[h].op,
                  operand(h, scalar: { $0 == 0.5 }) == m.nodes[p].outputs[0] else { continue }
            m.nodes[h].op = .unary(.activation(.gelu))
            m.nodes[h].inputs = [x]
            m.nodes[h].opType = "Gelu"
            dead.formUnion([i, e, a, p])
        }
        removeNodes(m, dead)
    }

    /// Conv/Gemm/MatMul followed by a lone activation: the activation runs in the kernel's epilogue.
    static func fuseActivations(_ m: ONNXModel) {
        let c = consumers(m)
        var dead = Set<Int>()
        for i in m.nodes.indices {
            guard let j = soleConsumer(m.nodes[i].outputs[0], m, c), !dead.contains(j),
                  case let .unary(.activation(a)) = m.nodes[j].op else { continue }
            switch m.nodes[i].op {
            case let .conv(attrs, .identity): m.nodes[i].op = .conv(attrs, activation: a)
            case let .gemm(al, be, ta, tb, .identity): m.nodes[i].op = .gemm(alpha: al, beta: be, transA: ta, transB: tb, activation: a)
            case .matMul(.identity): m.nodes[i].op = .matMul(activation: a)
            default: continue
            }
            m.nodes[i].outputs = m.nodes[j].outputs
            dead.insert(j)
        }
        removeNodes(m, dead)
    }
}
