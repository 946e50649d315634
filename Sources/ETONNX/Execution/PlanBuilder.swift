import ETCore

/// Walks the optimised graph once for concrete input shapes: infers every shape, folds what is
/// constant, and emits the steps and storage requests of an `ExecutionPlan`.
struct PlanBuilder {
    enum Value {
        case constant(ConstantValue)
        case tensor(storage: Int, shape: [Int])
        /// A Transpose/Slice/Reshape result not copied yet: element (i…) lives at
        /// offset + Σ i_d·strides[d] of the storage. MatMul reads it in place; anything else
        /// gets a copy when it asks for the tensor.
        case view(storage: Int, shape: [Int], strides: [Int], offset: Int)
    }

    /// Whether Transpose/Slice/Reshape become strided views that MatMul reads in place, a
    /// MatMul writes straight into the layout of a Transpose that follows it, and a Mul by a
    /// positive scalar before a Softmax becomes the Softmax's scale (tests compare both ways).
    static var foldLayouts = true

    let model: ONNXModel
    var steps: [Step] = []
    var storages: [StorageRequest] = []
    var values: [String: Value] = [:]
    var inputStorage: [String: Int] = [:]
    var outputStorage: [String: Int] = [:]
    var outputShapes: [String: [Int]] = [:]
    /// Constants placed in the arena because a run-time step reads them.
    var constantData: [(Int, [Float])] = []
    var constantStorage: [String: Int] = [:]
    var scratchCount = 0
    /// Storages whose value depends only on static inputs and constants.
    var staticStorages = Set<Int>()
    /// Indices of steps that only read static storages (run once per change of the static inputs).
    var staticSteps = Set<Int>()
    let staticInputs: Set<String>
    /// Node indices reading each value, and the graph outputs (for the layout folds).
    private let consumers: [String: [Int]]
    private let graphOutputs: Set<String>
    /// Transpose nodes whose result an earlier MatMul already wrote in their layout.
    private var foldedNodes = Set<Int>()
    /// Values that are their input times a positive scalar, left for the Softmax reading them.
    private var pendingScale: [String: (input: String, scale: Float)] = [:]
    /// softmax(scale·Q·K) not computed yet, by the Softmax's output name: the MatMul reading it
    /// becomes one fused attention step.
    private var pendingAttention: [String: PendingAttention] = [:]

    struct PendingAttention {
        var qkNode: Int, softmaxNode: Int
        var q: Int, k: Int
        var fq: (ld: Int, trans: Bool), fk: (ld: Int, trans: Bool)
        var batch: [Int]
        /// Per batch: element offsets of Q and K.
        var offsets: [(Int, Int)]
        var n: Int, keys: Int, dk: Int
        var scale: Float
    }

    /// Query rows per block of the fused attention: as many as keep the block's scores
    /// (rows × keys floats) within `attentionScoreFloats` (L2-resident between the two products
    /// and the softmax), a multiple of the GEMM's 6-row tile; fewer blocks repack K and V less.
    static let attentionScoreFloats = 1 << 16
    static func attentionRowBlock(rows: Int, keys: Int) -> Int {
        let fit = max(6, attentionScoreFloats / max(keys, 1) / 6 * 6)
        return min(rows, fit)
    }

    init(model: ONNXModel, staticInputs: Set<String> = []) {
        self.model = model
        self.staticInputs = staticInputs
        var c: [String: [Int]] = [:]
        for (i, n) in model.nodes.enumerated() { for inp in n.inputs where !inp.isEmpty { c[inp, default: []].append(i) } }
        consumers = c
        graphOutputs = Set(model.outputNames)
    }

    private var path: String { model.path }

    /// Constant outputs (folded at plan time), with their integer data where they have it.
    var outputConstants: [String: ConstantValue] = [:]

    mutating func build(inputShapes: [String: [Int]], inputValues: [String: ONNXTensorValue] = [:]) throws {
        for name in Set(inputShapes.keys).union(inputValues.keys) where !model.inputNames.contains(name) {
            throw ONNXError("\(path): the model has no input '\(name)' (inputs: \(model.inputNames.joined(separator: ", ")))")
        }
        for inp in model.inputs {
            let declared = ONNXDataType(rawValue: inp.elementType)
            if let given = inputValues[inp.name] {
                // Integer inputs (shapes, axes, indices) are values of the plan, like constants.
                guard declared?.isInteger ?? false else {
                    throw ONNXError("\(path): input '\(inp.name)' is \(ONNXDataType.describe(inp.elementType)); only integer and bool inputs are given as plan-time values")
                }
                if let d = inp.shape, d.count != given.dims.count {
                    throw ONNXError("\(path): input '\(inp.name)' is declared with rank \(d.count) (\(d)), got shape \(given.dims)")
                }
                switch given.storage {
                case let .int64(v): values[inp.name] = .constant(ConstantValue(shape: given.dims, ints: v))
                case .float32: throw ONNXError("\(path): input '\(inp.name)' is \(ONNXDataType.describe(inp.elementType)), but float data was given")
                }
                continue
            }
            switch declared {
            case .float?: break
            case nil where inp.elementType == 0: break  // undeclared: float
            case let t? where t.isInteger:
                throw ONNXError("\(path): input '\(inp.name)' is \(t): give its values (integer inputs are bound when the plan is built)")
            default:
                throw ONNXError("\(path): input '\(inp.name)' has element type \(ONNXDataType.describe(inp.elementType)); the engine runs float32 tensors (and takes integer inputs as plan-time values)")
            }
            guard let shape = inputShapes[inp.name] else {
                throw ONNXError("\(path): no shape given for input '\(inp.name)'")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw ONNXError("\(path): input '\(inp.name)' has a bad shape \(shape)") }
            if let declared = inp.shape, declared.count != shape.count {
                throw ONNXError("\(path): input '\(inp.name)' is declared with rank \(declared.count) (\(declared)), got shape \(shape)")
            }
            let s = newStorage(count: shape.reduce(1, *), first: -1, last: Int.max)
            inputStorage[inp.name] = s
            values[inp.name] = .tensor(storage: s, shape: shape)
            if staticInputs.contains(inp.name) { staticStorages.insert(s) }
        }
        for (name, c) in model.constants where values[name] == nil { values[name] = .constant(c) }
        for (i, node) in model.nodes.enumerated() where !foldedNodes.contains(i) {
            do {
                try plan(node, index: i)
            } catch let e as ShapeMath.Failure {
                throw ONNXError("\(path): node '\(node.name)' (\(node.opType)): \(e.message)")
            } catch let e as ONNXError where !e.message.hasPrefix(path) {
                throw ONNXError("\(path): node '\(node.name)' (\(node.opType)): \(e.message)")
            }
        }
        var claimed = Set<Int>()
        for o in model.outputNames {
            guard let v = values[o] else { throw ONNXError("\(path): output '\(o)' was not computed") }
            var (s, shape) = try tensor(o)
            // Outputs get their own storage when they alias an input or another output.
            if inputStorage.values.contains(s) || claimed.contains(s) || constantStorage.values.contains(s) {
                let copy = newStorage(count: shape.reduce(1, *), first: steps.count, last: Int.max)
                steps.append(Step(node: o, opName: "Copy", kind: .copy(count: shape.reduce(1, *)), inputs: [s], output: copy, outputShape: shape, macs: 0))
                s = copy
            }
            if case let .constant(c) = v { outputConstants[o] = c }
            storages[s].last = Int.max
            claimed.insert(s)
            outputStorage[o] = s
            outputShapes[o] = shape
        }
    }

    private mutating func newStorage(count: Int, first: Int, last: Int) -> Int {
        storages.append(StorageRequest(count: count, first: first, last: last))
        return storages.count - 1
    }

    /// A float tensor input for the step about to be emitted; constants are placed in the arena.
    private mutating func tensor(_ name: String) throws -> (Int, [Int]) {
        guard let v = values[name] else { throw ONNXError("value '\(name)' is not available") }
        switch v {
        case let .tensor(s, shape):
            storages[s].last = max(storages[s].last, steps.count)
            return (s, shape)
        case let .view(base, shape, strides, offset):
            // Copy the view into its own storage now (a strided copy step), once.
            storages[base].last = max(storages[base].last, steps.count)
            let isStatic = !staticInputs.isEmpty && staticStorages.contains(base)
            let out = newStorage(count: shape.reduce(1, *), first: isStatic ? -1 : steps.count, last: isStatic ? Int.max : steps.count)
            if isStatic { staticStorages.insert(out); staticSteps.insert(steps.count); storages[base].last = Int.max }
            let merged = ElementwiseKernels.mergedLayout(shape: shape, strides: strides)
            steps.append(Step(node: name, opName: "StridedCopy", kind: .stridedCopy(dims: merged.dims, strides: merged.strides, offset: offset),
                              inputs: [base], output: out, outputShape: shape, macs: 0))
            values[name] = .tensor(storage: out, shape: shape)
            return (out, shape)
        case let .constant(c):
            if let s = constantStorage[name] { return (s, c.shape) }
            let s = newStorage(count: c.count, first: -1, last: Int.max)
            constantData.append((s, c.asFloats))
            constantStorage[name] = s
            staticStorages.insert(s)
            return (s, c.shape)
        }
    }

    private func shapeOf(_ name: String) throws -> [Int] {
        switch values[name] {
        case let .tensor(_, shape)?: return shape
        case let .view(_, shape, _, _)?: return shape
        case let .constant(c)?: return c.shape
        case nil: throw ONNXError("value '\(name)' is not available")
        }
    }

    private func constant(_ name: String) -> ConstantValue? {
        if case let .constant(c)? = values[name] { return c }
        return nil
    }

    /// A run-time tensor as a strided layout (storage, shape, strides, offset) without copying it.
    private mutating func strided(_ name: String) throws -> (storage: Int, shape: [Int], strides: [Int], offset: Int) {
        if case let .view(base, shape, strides, offset)? = values[name] {
            storages[base].last = max(storages[base].last, steps.count)
            return (base, shape, strides, offset)
        }
        let (s, shape) = try tensor(name)
        return (s, shape, Tensor.strides(of: shape), 0)
    }

    /// Whether `name` is read only by nodes of these op types (and is not a graph output).
    private func onlyConsumed(_ name: String, by accept: (Operator) -> Bool) -> [Int]? {
        guard !graphOutputs.contains(name), let c = consumers[name], !c.isEmpty,
              c.allSatisfy({ accept(model.nodes[$0].op) }) else { return nil }
        return c
    }

    /// For a Mul node: (the run-time operand, the scale) when the other operand is a positive
    /// finite scalar constant and the product feeds only one Softmax over the last axis.
    private func scalarBeforeSoftmax(_ node: GraphNode, _ consts: [ConstantValue?]) -> (String, Float)? {
        guard node.inputs.count == 2 else { return nil }
        for (c, x) in [(1, 0), (0, 1)] {
            guard let k = consts[c], k.count == 1, consts[x] == nil, let v = k.asFloats.first, v.isFinite, v > 0,
                  let xs = try? shapeOf(node.inputs[x]), k.shape.count <= xs.count,
                  let users = onlyConsumed(node.outputs[0], by: { if case .softmax = $0 { return true } else { return false } }),
                  users.count == 1, case let .softmax(axis, _) = model.nodes[users[0]].op,
                  (try? ShapeMath.normalizeAxis(axis, rank: xs.count)) == xs.count - 1 else { continue }
            return (node.inputs[x], v)
        }
        return nil
    }

    /// Batched MatMul reading strided views in place (transposed and sliced operands are GEMM
    /// strides and batch offsets) and, when its only reader is a Transpose that keeps the last
    /// axis, writing straight into that Transpose's layout.
    private mutating func planMatMul(_ node: GraphNode, index: Int, activation act: Activation) throws {
        let ins = node.inputs
        if let att = pendingAttention.removeValue(forKey: ins[0]) {
            if try planAttention(node, index: index, att, activation: act) { return }
        }
        var A = try strided(ins[0]), B = try strided(ins[1])
        let asz0 = A.shape, bsz0 = B.shape
        if asz0.count == 1 { A.shape = [1] + A.shape; A.strides = [0] + A.strides }
        if bsz0.count == 1 { B.shape = B.shape + [1]; B.strides = B.strides + [0] }
        let asz = A.shape, bsz = B.shape
        guard asz.count >= 2, bsz.count >= 2, asz[asz.count - 1] == bsz[bsz.count - 2] else {
            throw ONNXError("cannot multiply \(asz0) by \(bsz0)")
        }
        let m = asz[asz.count - 2], k = asz[asz.count - 1], n = bsz[bsz.count - 1]
        // GEMM form of a strided matrix: (leading dimension, transposed), nil when neither stride is 1.
        func form(_ rs: Int, _ cs: Int, rows: Int, cols: Int) -> (ld: Int, trans: Bool)? {
            let r = rows == 1 ? cols : rs, c = cols == 1 ? 1 : cs
            if c == 1 && r >= max(cols, 1) { return (r, false) }
            let r2 = rows == 1 ? 1 : rs, c2 = cols == 1 ? rows : cs
            if r2 == 1 && c2 >= max(rows, 1) { return (c2, true) }
            return nil
        }
        var fa = form(A.strides[asz.count - 2], A.strides[asz.count - 1], rows: m, cols: k)
        var fb = form(B.strides[bsz.count - 2], B.strides[bsz.count - 1], rows: k, cols: n)
        if fa == nil {  // copy it contiguous
            let (s, _) = try tensor(ins[0]); A = (s, asz, Tensor.strides(of: asz), 0); fa = (k, false)
        }
        if fb == nil {
            let (s, _) = try tensor(ins[1]); B = (s, bsz, Tensor.strides(of: bsz), 0); fb = (n, false)
        }
        let batch = try ShapeMath.broadcast(Array(asz.dropLast(2)), Array(bsz.dropLast(2)))
        let total = batch.reduce(1, *)
        // Batch strides of each operand, right-aligned; broadcast dims step 0.
        func batchStrides(_ shape: [Int], _ strides: [Int]) -> [Int] {
            let r = shape.count - 2
            return (0..<batch.count).map { d in
                let i = d - (batch.count - r)
                return i < 0 || shape[i] == 1 ? 0 : strides[i]
            }
        }
        let sa = batchStrides(asz, A.strides), sb = batchStrides(bsz, B.strides)
        var shape = batch + [m, n]
        if asz0.count == 1 { shape.remove(at: shape.count - 2) }
        if bsz0.count == 1 { shape.removeLast() }
        let (outShape, outStrides, foldedInto) = outputLayout(node, shape: shape, full: batch + [m, n],
                                                              canFold: asz0.count >= 2 && bsz0.count >= 2)
        let ldc = outStrides[batch.count]
        var batches: [(Int, Int, Int)] = []
        for t in 0..<total {
            var rem = t, ia = A.offset, ib = B.offset, ic = 0
            for d in stride(from: batch.count - 1, through: 0, by: -1) {
                let i = rem % batch[d]; rem /= batch[d]
                ia += i * sa[d]; ib += i * sb[d]; ic += i * outStrides[d]
            }
            batches.append((ia, ib, ic))
        }
        // Q·K → (× scale) → Softmax → ·V: wait for the second product and fuse the four.
        if Self.foldLayouts, act == .identity, asz0.count >= 2, bsz0.count >= 2, let chain = attentionChain(node.outputs[0], rank: batch.count + 2) {
            pendingAttention[chain.probabilities] = PendingAttention(
                qkNode: index, softmaxNode: chain.softmax, q: A.storage, k: B.storage, fq: fa!, fk: fb!, batch: batch,
                offsets: batches.map { ($0.0, $0.1) }, n: m, keys: n, dk: k, scale: chain.scale)
            foldedNodes.formUnion(chain.nodes)
            return
        }
        let packed = bsz0.count == 2 ? model.preparedRightOperands[index].flatMap { $0.rows == k && $0.cols == n ? $0 : nil } : nil
        try emit(node, .matMul(m: m, n: n, k: k, batches: batches, a: fa!, b: fb!, ldc: ldc, activation: act, packedB: packed),
             inputs: [A.storage, B.storage], shape: outShape, macs: total * m * n * k)
        if let (i, name) = foldedInto {
            foldedNodes.insert(i)
            values[name] = values[node.outputs[0]]
        }
    }

    /// Where a MatMul writes: contiguous, or in the layout of the Transpose that alone reads it
    /// (when that Transpose keeps the last axis). Returns the stored shape, the strides of the
    /// MatMul's own (batch…, m, n) dims in it, and the Transpose folded in.
    private func outputLayout(_ node: GraphNode, shape: [Int], full: [Int], canFold: Bool)
        -> (shape: [Int], strides: [Int], folded: (index: Int, name: String)?) {
        var strides = Tensor.strides(of: full)
        if Self.foldLayouts, canFold,
           let users = onlyConsumed(node.outputs[0], by: { if case .transpose = $0 { return true } else { return false } }),
           users.count == 1, case let .transpose(perm) = model.nodes[users[0]].op {
            let r = shape.count
            let p = perm ?? Array((0..<r).reversed())
            if p.count == r, Set(p) == Set(0..<r), p[r - 1] == r - 1 {
                let tShape = p.map { shape[$0] }, tStrides = Tensor.strides(of: tShape)
                for d in 0..<r { strides[d] = tStrides[p.firstIndex(of: d)!] }
                return (tShape, strides, (users[0], model.nodes[users[0]].outputs[0]))
            }
        }
        return (shape, strides, nil)
    }

    /// For a MatMul output S: S (× positive scalar) → Softmax over the last axis → first input of
    /// one MatMul, each value read by the next node only. Returns the scale, the nodes folded
    /// away (Mul, Softmax) and the Softmax output's name.
    private func attentionChain(_ s: String, rank: Int) -> (scale: Float, nodes: [Int], softmax: Int, probabilities: String)? {
        func sole(_ v: String) -> Int? {
            guard !graphOutputs.contains(v), let c = consumers[v], c.count == 1 else { return nil }
            return c[0]
        }
        guard var next = sole(s) else { return nil }
        var scale: Float = 1, nodes: [Int] = []
        if case .binary(.mul) = model.nodes[next].op {
            let mul = model.nodes[next]
            guard mul.inputs.count == 2, let other = mul.inputs.first(where: { $0 != s }),
                  let c = constant(other), c.count == 1, c.shape.count <= rank, let v = c.asFloats.first, v.isFinite, v > 0,
                  let after = sole(mul.outputs[0]) else { return nil }
            scale = v; nodes.append(next); next = after
        }
        guard case let .softmax(axis, _) = model.nodes[next].op,
              (try? ShapeMath.normalizeAxis(axis, rank: rank)) == rank - 1 else { return nil }
        let probabilities = model.nodes[next].outputs[0]
        guard let user = sole(probabilities), case .matMul = model.nodes[user].op,
              model.nodes[user].inputs.count == 2, model.nodes[user].inputs[0] == probabilities,
              model.nodes[user].inputs[1] != probabilities else { return nil }
        nodes.append(next)
        return (scale, nodes, next, probabilities)
    }

    /// The second product of a pending attention (P·V): one fused step, or, when V's batch does
    /// not line up with the scores', the three steps as they were.
    private mutating func planAttention(_ node: GraphNode, index: Int, _ att: PendingAttention, activation act: Activation) throws -> Bool {
        var V = try strided(node.inputs[1])
        let rows = att.n, keys = att.keys
        let probShape = att.batch + [rows, keys]
        // The product's batch: the scores' batch, possibly with leading 1s from V's rank.
        var batch = att.batch
        var fused = V.shape.count >= 2 && V.shape[V.shape.count - 2] == keys
        if fused, let b = try? ShapeMath.broadcast(att.batch, Array(V.shape.dropLast(2))),
           Array(b.drop { $0 == 1 }) == Array(att.batch.drop { $0 == 1 }) {
            batch = b
        } else {
            fused = false
        }
        if !fused {
            // Emit Q·K and the Softmax after all; the MatMul then plans as usual.
            let qk = model.nodes[att.qkNode], sm = model.nodes[att.softmaxNode]
            try emit(qk, .matMul(m: rows, n: keys, k: att.dk, batches: att.offsets.enumerated().map { ($1.0, $1.1, $0 * rows * keys) },
                             a: att.fq, b: att.fk, ldc: keys, activation: .identity, packedB: nil),
                 inputs: [att.q, att.k], shape: probShape, macs: att.offsets.count * rows * keys * att.dk)
            let (scores, _) = try tensor(qk.outputs[0])
            try emit(sm, .softmax(outer: att.batch.reduce(1, *) * rows, axis: keys, inner: 1, scale: att.scale), inputs: [scores], shape: probShape)
            return false
        }
        let dv = V.shape[V.shape.count - 1]
        let rs = V.strides[V.shape.count - 2], cs = V.strides[V.shape.count - 1]
        var fv: (ld: Int, trans: Bool)
        if cs == 1 || dv == 1 { fv = (dv == 1 ? 1 : rs, false) } else if rs == 1 { fv = (cs, true) } else {
            let (s, _) = try tensor(node.inputs[1])
            V = (s, V.shape, Tensor.strides(of: V.shape), 0)
            fv = (dv, false)
        }
        if !fv.trans && fv.ld < dv { fv.ld = dv }
        let vr = V.shape.count - 2
        let vb = (0..<batch.count).map { d -> Int in
            let i = d - (batch.count - vr)
            return i < 0 || V.shape[i] == 1 ? 0 : V.strides[i]
        }
        let shape = batch + [rows, dv]
        let (outShape, outStrides, foldedInto) = outputLayout(node, shape: shape, full: shape, canFold: true)
        var batches: [(Int, Int, Int, Int)] = []
        for (t, (qo, ko)) in att.offsets.enumerated() {  // leading 1s keep the linear batch order
            var rem = t, vo = V.offset, oo = 0
            for d in stride(from: batch.count - 1, through: 0, by: -1) {
                let i = rem % batch[d]; rem /= batch[d]
                vo += i * vb[d]; oo += i * outStrides[d]
            }
            batches.append((qo, ko, vo, oo))
        }
        let block = Self.attentionRowBlock(rows: rows, keys: keys)
        scratchCount = max(scratchCount, block * keys + block)  // scores and 1/Σ per row
        let macs = batches.count * rows * keys * (att.dk + dv)
        try emit(node, .attention(batches: batches, n: rows, keys: keys, dk: att.dk, dv: dv, q: att.fq, k: att.fk, v: fv,
                              ldo: outStrides[batch.count], scale: att.scale, activation: act, rowBlock: block),
             inputs: [att.q, att.k, V.storage], shape: outShape, macs: macs, opName: act == .identity ? "Attention" : "Attention+\(act)")
        if let (i, name) = foldedInto {
            foldedNodes.insert(i)
            values[name] = values[node.outputs[0]]
        }
        return true
    }

    private mutating func emit(_ node: GraphNode, _ kind: StepKind, inputs: [Int], shape: [Int], macs: Int = 0, opName: String? = nil,
                               output: Int = 0) throws {
        // An empty result needs no step; a non-empty one from empty inputs only where defined.
        if shape.contains(0) {
            values[node.outputs[output]] = .tensor(storage: newStorage(count: 0, first: -1, last: Int.max), shape: shape)
            return
        }
        if inputs.contains(where: { $0 >= 0 && storages[$0].count == 0 }) {
            switch kind {
            case .concat: break
            default: throw ONNXError("an input has no elements, and \(node.op.name) of an empty tensor is not supported")
            }
        }
        // A step that reads only static values computes a static value: it runs once per change of
        // the static inputs, and its output must then survive every later run (never reused).
        let isStatic = !staticInputs.isEmpty && inputs.allSatisfy { staticStorages.contains($0) }
        // Inputs live up to this step (a view copied for a later input may have been planned after them).
        for s in inputs where s >= 0 { storages[s].last = max(storages[s].last, steps.count) }
        let out = newStorage(count: shape.reduce(1, *), first: isStatic ? -1 : steps.count, last: isStatic ? Int.max : steps.count)
        if isStatic {
            staticStorages.insert(out)
            staticSteps.insert(steps.count)
            for s in inputs { storages[s].last = Int.max }
        }
        steps.append(Step(node: node.name, opName: opName ?? node.op.name, kind: kind, inputs: inputs, output: out, outputShape: shape, macs: macs))
        values[node.outputs[output]] = .tensor(storage: out, shape: shape)
    }

    static func viewShape(_ op: Operator, _ shape: [Int], _ axesInput: [Int]?) throws -> [Int] {
        switch op {
        case let .flatten(axis):
            let a = axis < 0 ? axis + shape.count : axis
            guard a >= 0 && a <= shape.count else { throw ShapeMath.Failure(message: "flatten axis \(axis) out of range") }
            return [shape[..<a].reduce(1, *), shape[a...].reduce(1, *)]
        case let .squeeze(attrAxes):
            if let axes = attrAxes ?? axesInput {
                let n = try Set(axes.map { try ShapeMath.normalizeAxis($0, rank: shape.count) })
                for a in n where shape[a] != 1 { throw ShapeMath.Failure(message: "cannot squeeze axis \(a) of \(shape)") }
                return shape.enumerated().filter { !n.contains($0.offset) }.map(\.element)
            }
            return shape.filter { $0 != 1 }
        case let .unsqueeze(attrAxes):
            guard let axes = attrAxes ?? axesInput else { throw ShapeMath.Failure(message: "unsqueeze needs axes") }
            let r = shape.count + axes.count
            let n = try Set(axes.map { try ShapeMath.normalizeAxis($0, rank: r) })
            guard n.count == axes.count else { throw ShapeMath.Failure(message: "repeated unsqueeze axes \(axes)") }
            var out: [Int] = [], it = shape.makeIterator()
            for i in 0..<r { out.append(n.contains(i) ? 1 : it.next()!) }
            return out
        default:
            return shape
        }
    }

    /// Gather along `axis` with constant indices, as an index map.
    static func gatherMap(_ shape: [Int], axis: Int, indices: ConstantValue) throws -> ([Int], [Int32]) {
        let ax = try ShapeMath.normalizeAxis(axis, rank: shape.count)
        let d = shape[ax]
        let idx = try indices.asInts.map { i -> Int in
            let j = i < 0 ? i + d : i
            guard j >= 0 && j < d else { throw ShapeMath.Failure(message: "gather index \(i) out of range for dim \(d)") }
            return j
        }
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        var map: [Int32] = []
        map.reserveCapacity(outer * idx.count * inner)
        for o in 0..<outer { for j in idx { for k in 0..<inner { map.append(Int32((o * d + j) * inner + k)) } } }
        return (Array(shape[..<ax]) + indices.shape + Array(shape[(ax + 1)...]), map)
    }

    private mutating func plan(_ node: GraphNode, index: Int) throws {
        let ins = node.inputs
        // Shape of a run-time tensor is known now: fold it.
        if case let .shape(start, end) = node.op {
            let s = try shapeOf(ins[0]), r = s.count
            let lo = max(0, min(r, start < 0 ? start + r : start)), hi = max(lo, min(r, end.map { $0 < 0 ? $0 + r : $0 } ?? r))
            values[node.outputs[0]] = .constant(ConstantValue(shape: [hi - lo], ints: s[lo..<hi].map { Int64($0) }))
            return
        }
        let consts = ins.map { $0.isEmpty ? nil : constant($0) }
        let present = zip(ins, consts).filter { !$0.0.isEmpty }
        if !present.isEmpty, present.allSatisfy({ $0.1 != nil }), let v = try ConstantFolder.fold(node.op, consts) {
            values[node.outputs[0]] = .constant(v)
            return
        }
        if node.op.isView {
            let newShape: [Int]
            let shape = try shapeOf(ins[0])
            if case let .reshape(allowZero) = node.op {
                guard let spec = consts[1] else { throw ONNXError("the target shape must be constant") }
                newShape = try ShapeMath.reshape(shape, to: spec.asInts, allowZero: allowZero)
            } else {
                newShape = try Self.viewShape(node.op, shape, ins.count > 1 ? consts[1]?.asInts : nil)
            }
            if case let .view(base, vs, strides, offset)? = values[ins[0]] {
                if let ns = ShapeMath.reshapeStrides(vs, strides, to: newShape) {
                    values[node.outputs[0]] = .view(storage: base, shape: newShape, strides: ns, offset: offset)
                    return
                }
            }
            let (s, _) = try tensor(ins[0])
            values[node.outputs[0]] = .tensor(storage: s, shape: newShape)
            return
        }
        switch node.op {
        case let .conv(attrs, activation):
            let (x, xs4) = try tensor(ins[0])
            let ws = try shapeOf(ins[1])
            guard xs4.count == ws.count, xs4.count == 4 || xs4.count == 3 else {
                throw ONNXError("only 1-D (NCL) and 2-D (NCHW) convolutions are supported; input \(xs4), weight \(ws)")
            }
            let oneD = xs4.count == 3
            let xs = oneD ? [xs4[0], xs4[1], 1, xs4[2]] : xs4
            let p = try model.convParameters(node: node, attrs: attrs, weightShape: ws, inH: xs[2], inW: xs[3])
            guard p.inChannels == xs[1] else { throw ONNXError("input has \(xs[1]) channels, the weight expects \(p.inChannels)") }
            let (oh, ow) = p.outputSize(inH: xs[2], inW: xs[3])
            guard oh > 0, ow > 0 else { throw ONNXError("a \(xs[2])x\(xs[3]) input is too small for \(p)") }
            let batch = xs[0]
            let shape = oneD ? [batch, p.outChannels, ow] : [batch, p.outChannels, oh, ow]
            let macs = batch * p.outChannels * oh * ow * (p.inChannels / p.groups) * p.kernelH * p.kernelW
            let hasBias = ins.count > 2 && !ins[2].isEmpty
            if hasBias, try ShapeMath.count(try shapeOf(ins[2])) != p.outChannels {
                throw ONNXError("bias has shape \(try shapeOf(ins[2])), expected \(p.outChannels) values")
            }
            if let conv = model.preparedConvs[index] {
                scratchCount = max(scratchCount, conv.scratchCount(inH: xs[2], inW: xs[3]))
                try emit(node, .conv(conv, batch: batch, inH: xs[2], inW: xs[3]), inputs: [x], shape: shape, macs: macs)
            } else if let w = consts[1]?.floats, !hasBias || consts[2] != nil {
                let conv = Conv2D(p, weight: w, bias: hasBias ? consts[2]!.asFloats : nil, activation: activation)
                scratchCount = max(scratchCount, conv.scratchCount(inH: xs[2], inW: xs[3]))
                try emit(node, .conv(conv, batch: batch, inH: xs[2], inW: xs[3]), inputs: [x], shape: shape, macs: macs)
            } else {
                let (w, _) = try tensor(ins[1])
                var inputs = [x, w]
                if hasBias { inputs.append(try tensor(ins[2]).0) }
                try emit(node, .convDynamic(p, activation, batch: batch, inH: xs[2], inW: xs[3], hasBias: hasBias), inputs: inputs, shape: shape, macs: macs)
            }
        case let .batchNorm(eps, momentum, training):
            let (x, xs) = try tensor(ins[0])
            guard xs.count >= 2 else { throw ONNXError("needs an N×C×… input, got \(xs)") }
            let (batch, channels, spatial) = (xs[0], xs[1], xs[2...].reduce(1, *))
            for i in 1...4 where try ShapeMath.count(try shapeOf(ins[i])) != channels {
                throw ONNXError("input \(i) ('\(ins[i])') has shape \(try shapeOf(ins[i])), expected \(channels) values (one per channel)")
            }
            if !training, let g = consts[1]?.asFloats, let b = consts[2]?.asFloats, let m = consts[3]?.asFloats, let v = consts[4]?.asFloats {
                let scale = (0..<channels).map { g[$0] / (v[$0] + eps).squareRoot() }
                let shift = (0..<channels).map { b[$0] - m[$0] * scale[$0] }
                try emit(node, .affine(batch: batch, channels: channels, spatial: spatial, scale: scale, shift: shift), inputs: [x], shape: xs)
                return
            }
            // Statistics or parameters computed at run time, or batch statistics (training_mode=1).
            var inputs = [x]
            for i in 1...4 { inputs.append(try tensor(ins[i]).0) }
            let geometry = (batch: batch, channels: channels, spatial: spatial)
            try emit(node, .batchNorm(geometry, epsilon: eps, momentum: momentum, training: training, output: 0), inputs: inputs, shape: xs)
            for k in 1..<min(3, node.outputs.count) where !node.outputs[k].isEmpty {
                try emit(node, .batchNorm(geometry, epsilon: eps, momentum: momentum, training: true, output: k), inputs: inputs, shape: [channels],
                     opName: k == 1 ? "BatchNormalization.running_mean" : "BatchNormalization.running_var", output: k)
            }
        case let .gemm(alpha, beta, ta, tb, act):
            let (a, asz) = try tensor(ins[0]), (b, bsz) = try tensor(ins[1])
            guard asz.count == 2, bsz.count == 2 else { throw ONNXError("Gemm needs 2-D inputs, got \(asz) and \(bsz)") }
            let (m, k) = ta ? (asz[1], asz[0]) : (asz[0], asz[1])
            let (k2, n) = tb ? (bsz[1], bsz[0]) : (bsz[0], bsz[1])
            guard k == k2 else { throw ONNXError("inner dimensions differ: \(asz) and \(bsz) (transA \(ta), transB \(tb))") }
            var inputs = [a, b]
            var mode = GemmCMode.none
            if ins.count > 2, !ins[2].isEmpty, beta != 0 {
                let (c, cs) = try tensor(ins[2])
                inputs.append(c)
                if beta == 1 && cs.reduce(1, *) == n && (cs == [n] || cs == [1, n]) {
                    mode = .rowVector
                } else {
                    _ = try ShapeMath.broadcast(cs, [m, n])
                    let strides = ShapeMath.broadcastStrides(cs, to: [m, n])
                    mode = .broadcast(map: (0..<(m * n)).map { Int32(($0 / n) * strides[0] + ($0 % n) * strides[1]) })
                }
            }
            let packed = model.preparedRightOperands[index].flatMap { $0.rows == k && $0.cols == n ? $0 : nil }
            try emit(node, .gemm(m: m, n: n, k: k, transA: ta, transB: tb, alpha: alpha, beta: beta, activation: act, cMode: mode, packedB: packed),
                 inputs: inputs, shape: [m, n], macs: m * n * k)
        case let .matMul(act):
            try planMatMul(node, index: index, activation: act)
        case .clip:
            // Bounds from graph inputs: known at plan time (integer inputs) they become the
            // clip activation; float bounds at run time become Max then Min steps.
            let known = (1..<ins.count).allSatisfy { ins[$0].isEmpty || consts[$0] != nil }
            if known {
                func bound(_ i: Int, _ d: Float) throws -> Float {
                    guard i < ins.count, let c = consts[i] else { return d }
                    guard c.count == 1 else { throw ONNXError("input \(i) must be a scalar, has shape \(c.shape)") }
                    return c.asFloats[0]
                }
                let op = UnaryOp.activation(.clip(try bound(1, -.infinity), try bound(2, .infinity)))
                if let c = consts[0], let v = try ConstantFolder.fold(.unary(op), [c]) { values[node.outputs[0]] = .constant(v); return }
                let (x, xs) = try tensor(ins[0])
                try emit(node, .unary(op, count: xs.reduce(1, *)), inputs: [x], shape: xs)
                return
            }
            var (acc, shape) = try tensor(ins[0])
            for (i, op) in [(1, BinaryOp.max), (2, BinaryOp.min)] where i < ins.count && !ins[i].isEmpty {
                let (b, bs) = try tensor(ins[i])
                guard bs.reduce(1, *) == 1 else { throw ONNXError("input \(i) must be a scalar, has shape \(bs)") }
                try emit(node, .binary(op, BroadcastPlan(a: shape, b: bs, out: shape)), inputs: [acc, b], shape: shape)
                (acc, shape) = try tensor(node.outputs[0])
            }
        case let .nary(op, mean):
            var (acc, accShape) = try tensor(ins[0])
            for name in ins.dropFirst() {
                let (b, bs) = try tensor(name)
                let shape = try ShapeMath.broadcast(accShape, bs)
                try emit(node, .binary(op, BroadcastPlan(a: accShape, b: bs, out: shape)), inputs: [acc, b], shape: shape)
                (acc, accShape) = try tensor(node.outputs[0])
            }
            if mean {
                let scaleName = node.outputs[0] + "#1/count"
                values[scaleName] = .constant(ConstantValue(shape: [], floats: [1 / Float(ins.count)]))
                let (k, _) = try tensor(scaleName)
                try emit(node, .binary(.mul, BroadcastPlan(a: accShape, b: [], out: accShape)), inputs: [acc, k], shape: accShape)
            } else if ins.count == 1 {
                try emit(node, .copy(count: accShape.reduce(1, *)), inputs: [acc], shape: accShape)
            }
        case let .binary(op):
            if op == .mul, Self.foldLayouts, let (x, scale) = scalarBeforeSoftmax(node, consts) {
                // x·scale feeding only a last-axis Softmax: the Softmax applies the scale.
                pendingScale[node.outputs[0]] = (x, scale)
                values[node.outputs[0]] = values[x]
                return
            }
            let (a, asz) = try tensor(ins[0]), (b, bsz) = try tensor(ins[1])
            let shape = try ShapeMath.broadcast(asz, bsz)
            try emit(node, .binary(op, BroadcastPlan(a: asz, b: bsz, out: shape)), inputs: [a, b], shape: shape)
        case let .unary(op):
            let (x, xs) = try tensor(ins[0])
            try emit(node, .unary(op, count: xs.reduce(1, *)), inputs: [x], shape: xs)
        case .globalAveragePool:
            let (x, xs) = try tensor(ins[0])
            guard xs.count >= 3 else { throw ONNXError("needs an N×C×spatial input, got \(xs)") }
            try emit(node, .globalAveragePool(channels: xs[0] * xs[1], spatial: xs[2...].reduce(1, *)), inputs: [x],
                 shape: [xs[0], xs[1]] + [Int](repeating: 1, count: xs.count - 2))
        case let .transpose(perm):
            let xs = try shapeOf(ins[0])
            let p = perm ?? Array((0..<xs.count).reversed())
            try ShapeMath.checkPermutation(p, rank: xs.count)
            if Self.foldLayouts {
                let v = try strided(ins[0])
                values[node.outputs[0]] = .view(storage: v.storage, shape: p.map { v.shape[$0] }, strides: p.map { v.strides[$0] }, offset: v.offset)
                return
            }
            let (x, _) = try tensor(ins[0])
            let (shape, map) = ShapeMath.transposeIndexMap(xs, perm: p)
            try emit(node, .gather(map: map), inputs: [x], shape: shape)
        case let .slice(starts, ends, axes):
            let xs = try shapeOf(ins[0])
            let geometry: (shape: [Int], begin: [Int], step: [Int])
            if let starts, let ends {
                geometry = try ShapeMath.sliceGeometry(xs, starts: starts, ends: ends, axes: axes, steps: nil)
            } else {
                guard let s = consts[1], let e = consts[2], ins.count < 4 || ins[3].isEmpty || consts[3] != nil,
                      ins.count < 5 || ins[4].isEmpty || consts[4] != nil else {
                    throw ONNXError("starts, ends, axes and steps must be constants")
                }
                geometry = try ShapeMath.sliceGeometry(xs, starts: s.asInts, ends: e.asInts,
                                                       axes: ins.count > 3 ? consts[3]?.asInts : nil, steps: ins.count > 4 ? consts[4]?.asInts : nil)
            }
            let v = try strided(ins[0])
            let offset = v.offset + zip(geometry.begin, v.strides).map { $0 * $1 }.reduce(0, +)
            let strides = zip(v.strides, geometry.step).map { $0 * $1 }
            values[node.outputs[0]] = .view(storage: v.storage, shape: geometry.shape, strides: strides, offset: offset)
            if !Self.foldLayouts || geometry.shape.contains(0) { _ = try tensor(node.outputs[0]) }
        case let .gather(axis):
            let (x, xs) = try tensor(ins[0])
            guard let idx = consts[1] else { throw ONNXError("indices must be constant") }
            let (shape, map) = try Self.gatherMap(xs, axis: axis, indices: idx)
            try emit(node, .gather(map: map), inputs: [x], shape: shape)
        case let .concat(axis):
            var ids: [Int] = [], shapes: [[Int]] = []
            for i in ins where !i.isEmpty { let (s, sh) = try tensor(i); ids.append(s); shapes.append(sh) }
            guard !shapes.isEmpty else { throw ONNXError("Concat needs at least one input") }
            let ax = try ShapeMath.normalizeAxis(axis, rank: shapes[0].count)
            for sh in shapes where sh.count != shapes[0].count || (0..<sh.count).contains(where: { $0 != ax && sh[$0] != shapes[0][$0] }) {
                throw ONNXError("shapes \(shapes) cannot be concatenated on axis \(axis)")
            }
            var shape = shapes[0]
            shape[ax] = shapes.map { $0[ax] }.reduce(0, +)
            try emit(node, .concat(outer: shape[..<ax].reduce(1, *), chunks: shapes.map { $0[ax...].reduce(1, *) }), inputs: ids, shape: shape)
        case let .softmax(axis, coerce2D):
            let (x, xs) = try tensor(ins[0])
            let ax = try ShapeMath.normalizeAxis(axis, rank: xs.count)
            let scale = pendingScale[ins[0]]?.scale ?? 1
            let kind: StepKind = coerce2D
                ? .softmax(outer: xs[..<ax].reduce(1, *), axis: xs[ax...].reduce(1, *), inner: 1, scale: scale)
                : .softmax(outer: xs[..<ax].reduce(1, *), axis: xs[ax], inner: xs[(ax + 1)...].reduce(1, *), scale: scale)
            try emit(node, kind, inputs: [x], shape: xs)
        case let .layerNorm(axis, eps):
            let (x, xs) = try tensor(ins[0])
            let ax = try ShapeMath.normalizeAxis(axis, rank: xs.count)
            let cols = xs[ax...].reduce(1, *)
            let (g, gs) = try tensor(ins[1])
            guard gs.reduce(1, *) == cols else { throw ONNXError("scale has shape \(gs), expected \(cols) values") }
            var inputs = [x, g]
            let hasBias = ins.count > 2 && !ins[2].isEmpty
            if hasBias { inputs.append(try tensor(ins[2]).0) }
            let rows = xs[..<ax].reduce(1, *)
            try emit(node, .layerNorm(rows: rows, cols: cols, epsilon: eps, hasBias: hasBias), inputs: inputs, shape: xs)
            // Optional outputs: the mean and 1/σ of each normalised row, shaped X with the normalised axes 1.
            let statsShape = Array(xs[..<ax]) + [Int](repeating: 1, count: xs.count - ax)
            for k in 1..<min(3, node.outputs.count) where !node.outputs[k].isEmpty {
                try emit(node, .rowStatistics(rows: rows, cols: cols, epsilon: eps, inverseStd: k == 2), inputs: [x], shape: statsShape,
                     opName: k == 1 ? "LayerNormalization.Mean" : "LayerNormalization.InvStdDev", output: k)
            }
        case let .cast(to):
            guard to == ONNXDataType.float.rawValue || to == ONNXDataType.double.rawValue else {
                throw ONNXError("casting a run-time float32 tensor to \(ONNXDataType.describe(to)) is not supported (the engine computes in float32; integers exist only as plan-time values)")
            }
            let (s, shape) = try tensor(ins[0])
            values[node.outputs[0]] = .tensor(storage: s, shape: shape)
        case .constantOfShape, .shape, .reshape, .flatten, .squeeze, .unsqueeze, .identity:
            throw ONNXError("needs constant inputs")
        }
    }
}
