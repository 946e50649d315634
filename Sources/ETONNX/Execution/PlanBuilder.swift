import ETCore

/// Walks the optimised graph once for concrete input shapes: infers every shape, folds what is
/// constant, and emits the steps and storage requests of an `ExecutionPlan`.
struct PlanBuilder {
    enum Value {
        case constant(ConstantValue)
        case tensor(storage: Int, shape: [Int])
    }

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

    init(model: ONNXModel, staticInputs: Set<String> = []) { self.model = model; self.staticInputs = staticInputs }

    private var path: String { model.path }

    mutating func build(inputShapes: [String: [Int]]) throws {
        for name in inputShapes.keys where !model.inputNames.contains(name) {
            throw ONNXError("\(path): the model has no input '\(name)' (inputs: \(model.inputNames.joined(separator: ", ")))")
        }
        for inp in model.inputs {
            guard let shape = inputShapes[inp.name] else {
                throw ONNXError("\(path): no shape given for input '\(inp.name)'")
            }
            guard shape.allSatisfy({ $0 > 0 }) else { throw ONNXError("\(path): input '\(inp.name)' has a bad shape \(shape)") }
            if let declared = inp.shape, declared.count != shape.count {
                throw ONNXError("\(path): input '\(inp.name)' is declared with rank \(declared.count) (\(declared)), got shape \(shape)")
            }
            let s = newStorage(count: shape.reduce(1, *), first: -1, last: Int.max)
            inputStorage[inp.name] = s
            values[inp.name] = .tensor(storage: s, shape: shape)
            if staticInputs.contains(inp.name) { staticStorages.insert(s) }
        }
        for (name, c) in model.constants where values[name] == nil { values[name] = .constant(c) }
        for (i, node) in model.nodes.enumerated() {
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
            if case .constant = v { shape = shape.isEmpty ? [] : shape }
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
        case let .constant(c)?: return c.shape
        case nil: throw ONNXError("value '\(name)' is not available")
        }
    }

    private func constant(_ name: String) -> ConstantValue? {
        if case let .constant(c)? = values[name] { return c }
        return nil
    }

    private mutating func emit(_ node: GraphNode, _ kind: StepKind, inputs: [Int], shape: [Int], macs: Int = 0) {
        // A step that reads only static values computes a static value: it runs once per change of
        // the static inputs, and its output must then survive every later run (never reused).
        let isStatic = !staticInputs.isEmpty && inputs.allSatisfy { staticStorages.contains($0) }
        let out = newStorage(count: shape.reduce(1, *), first: isStatic ? -1 : steps.count, last: isStatic ? Int.max : steps.count)
        if isStatic {
            staticStorages.insert(out)
            staticSteps.insert(steps.count)
            for s in inputs { storages[s].last = Int.max }
        }
        steps.append(Step(node: node.name, opName: node.op.name, kind: kind, inputs: inputs, output: out, outputShape: shape, macs: macs))
        values[node.outputs[0]] = .tensor(storage: out, shape: shape)
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
            let (s, shape) = try tensor(ins[0])
            let newShape: [Int]
            if case let .reshape(allowZero) = node.op {
                guard let spec = consts[1] else { throw ONNXError("the target shape must be constant") }
                newShape = try ShapeMath.reshape(shape, to: spec.asInts, allowZero: allowZero)
            } else {
                newShape = try Self.viewShape(node.op, shape, ins.count > 1 ? consts[1]?.asInts : nil)
            }
            values[node.outputs[0]] = .tensor(storage: s, shape: newShape)
            return
        }
        switch node.op {
        case let .conv(attrs, activation):
            let (x, xs) = try tensor(ins[0])
            guard xs.count == 4, xs[0] == 1 else { throw ONNXError("only batch-1 NCHW inputs are supported, got \(xs)") }
            let ws = try shapeOf(ins[1])
            let p = try model.convParameters(node: node, attrs: attrs, weightShape: ws, inH: xs[2], inW: xs[3])
            guard p.inChannels == xs[1] else { throw ONNXError("input has \(xs[1]) channels, the weight expects \(p.inChannels)") }
            let (oh, ow) = p.outputSize(inH: xs[2], inW: xs[3])
            guard oh > 0, ow > 0 else { throw ONNXError("a \(xs[2])x\(xs[3]) input is too small for \(p)") }
            let shape = [1, p.outChannels, oh, ow]
            let macs = p.outChannels * oh * ow * (p.inChannels / p.groups) * p.kernelH * p.kernelW
            let hasBias = ins.count > 2 && !ins[2].isEmpty
            if hasBias, try ShapeMath.count(try shapeOf(ins[2])) != p.outChannels {
                throw ONNXError("bias has shape \(try shapeOf(ins[2])), expected \(p.outChannels) values")
            }
            if let conv = model.preparedConvs[index] {
                scratchCount = max(scratchCount, conv.scratchCount(inH: xs[2], inW: xs[3]))
                emit(node, .conv(conv, inH: xs[2], inW: xs[3]), inputs: [x], shape: shape, macs: macs)
            } else if let w = consts[1]?.floats, !hasBias || consts[2] != nil {
                let conv = Conv2D(p, weight: w, bias: hasBias ? consts[2]!.asFloats : nil, activation: activation)
                scratchCount = max(scratchCount, conv.scratchCount(inH: xs[2], inW: xs[3]))
                emit(node, .conv(conv, inH: xs[2], inW: xs[3]), inputs: [x], shape: shape, macs: macs)
            } else {
                let (w, _) = try tensor(ins[1])
                var inputs = [x, w]
                if hasBias { inputs.append(try tensor(ins[2]).0) }
                emit(node, .convDynamic(p, activation, inH: xs[2], inW: xs[3], hasBias: hasBias), inputs: inputs, shape: shape, macs: macs)
            }
        case let .batchNorm(eps):
            let (x, xs) = try tensor(ins[0])
            guard xs.count >= 2, xs[0] == 1 else { throw ONNXError("only batch-1 inputs are supported, got \(xs)") }
            guard let g = consts[1]?.asFloats, let b = consts[2]?.asFloats, let m = consts[3]?.asFloats, let v = consts[4]?.asFloats,
                  g.count == xs[1], b.count == xs[1], m.count == xs[1], v.count == xs[1] else {
                throw ONNXError("scale, bias, mean and variance must be constants with \(xs[1]) values")
            }
            let scale = (0..<xs[1]).map { g[$0] / (v[$0] + eps).squareRoot() }
            let shift = (0..<xs[1]).map { b[$0] - m[$0] * scale[$0] }
            emit(node, .affine(channels: xs[1], spatial: xs[2...].reduce(1, *), scale: scale, shift: shift), inputs: [x], shape: xs)
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
            emit(node, .gemm(m: m, n: n, k: k, transA: ta, transB: tb, alpha: alpha, beta: beta, activation: act, cMode: mode, packedB: packed),
                 inputs: inputs, shape: [m, n], macs: m * n * k)
        case let .matMul(act):
            let (a, asz0) = try tensor(ins[0]), (b, bsz0) = try tensor(ins[1])
            let asz = asz0.count == 1 ? [1] + asz0 : asz0, bsz = bsz0.count == 1 ? bsz0 + [1] : bsz0
            guard asz.count >= 2, bsz.count >= 2, asz[asz.count - 1] == bsz[bsz.count - 2] else {
                throw ONNXError("cannot multiply \(asz0) by \(bsz0)")
            }
            let m = asz[asz.count - 2], k = asz[asz.count - 1], n = bsz[bsz.count - 1]
            let batch = try ShapeMath.broadcast(Array(asz.dropLast(2)), Array(bsz.dropLast(2)))
            let total = batch.reduce(1, *)
            let sa = ShapeMath.broadcastStrides(Array(asz.dropLast(2)), to: batch), sb = ShapeMath.broadcastStrides(Array(bsz.dropLast(2)), to: batch)
            var batches: [(Int, Int, Int)] = []
            for t in 0..<total {
                var rem = t, ia = 0, ib = 0
                for d in stride(from: batch.count - 1, through: 0, by: -1) {
                    let i = rem % batch[d]; rem /= batch[d]; ia += i * sa[d]; ib += i * sb[d]
                }
                batches.append((ia * m * k, ib * k * n, t * m * n))
            }
            var shape = batch + [m, n]
            if asz0.count == 1 { shape.remove(at: shape.count - 2) }
            if bsz0.count == 1 { shape.removeLast() }
            let packed = bsz0.count == 2 ? model.preparedRightOperands[index].flatMap { $0.rows == k && $0.cols == n ? $0 : nil } : nil
            emit(node, .matMul(m: m, n: n, k: k, batches: batches, activation: act, packedB: packed), inputs: [a, b], shape: shape, macs: total * m * n * k)
        case let .binary(op):
            let (a, asz) = try tensor(ins[0]), (b, bsz) = try tensor(ins[1])
            let shape = try ShapeMath.broadcast(asz, bsz)
            emit(node, .binary(op, BroadcastPlan(a: asz, b: bsz, out: shape)), inputs: [a, b], shape: shape)
        case let .unary(op):
            let (x, xs) = try tensor(ins[0])
            emit(node, .unary(op, count: xs.reduce(1, *)), inputs: [x], shape: xs)
        case .globalAveragePool:
            let (x, xs) = try tensor(ins[0])
            guard xs.count >= 3 else { throw ONNXError("needs an N×C×spatial input, got \(xs)") }
            emit(node, .globalAveragePool(channels: xs[0] * xs[1], spatial: xs[2...].reduce(1, *)), inputs: [x],
                 shape: [xs[0], xs[1]] + [Int](repeating: 1, count: xs.count - 2))
        case let .transpose(perm):
            let (x, xs) = try tensor(ins[0])
            let p = perm ?? Array((0..<xs.count).reversed())
            try ShapeMath.checkPermutation(p, rank: xs.count)
            let (shape, map) = ShapeMath.transposeIndexMap(xs, perm: p)
            emit(node, .gather(map: map), inputs: [x], shape: shape)
        case let .slice(starts, ends, axes):
            let (x, xs) = try tensor(ins[0])
            let (shape, map): ([Int], [Int32])
            if let starts, let ends {
                (shape, map) = try ShapeMath.slice(xs, starts: starts, ends: ends, axes: axes, steps: nil)
            } else {
                guard let s = consts[1], let e = consts[2], ins.count < 4 || ins[3].isEmpty || consts[3] != nil,
                      ins.count < 5 || ins[4].isEmpty || consts[4] != nil else {
                    throw ONNXError("starts, ends, axes and steps must be constants")
                }
                (shape, map) = try ShapeMath.slice(xs, starts: s.asInts, ends: e.asInts,
                                                   axes: ins.count > 3 ? consts[3]?.asInts : nil, steps: ins.count > 4 ? consts[4]?.asInts : nil)
            }
            emit(node, .gather(map: map), inputs: [x], shape: shape)
        case let .gather(axis):
            let (x, xs) = try tensor(ins[0])
            guard let idx = consts[1] else { throw ONNXError("indices must be constant") }
            let (shape, map) = try Self.gatherMap(xs, axis: axis, indices: idx)
            emit(node, .gather(map: map), inputs: [x], shape: shape)
        case let .concat(axis):
            var ids: [Int] = [], shapes: [[Int]] = []
            for i in ins where !i.isEmpty { let (s, sh) = try tensor(i); ids.append(s); shapes.append(sh) }
            let ax = try ShapeMath.normalizeAxis(axis, rank: shapes[0].count)
            for sh in shapes where sh.count != shapes[0].count || (0..<sh.count).contains(where: { $0 != ax && sh[$0] != shapes[0][$0] }) {
                throw ONNXError("shapes \(shapes) cannot be concatenated on axis \(axis)")
            }
            var shape = shapes[0]
            shape[ax] = shapes.map { $0[ax] }.reduce(0, +)
            emit(node, .concat(outer: shape[..<ax].reduce(1, *), chunks: shapes.map { $0[ax...].reduce(1, *) }), inputs: ids, shape: shape)
        case let .softmax(axis, coerce2D):
            let (x, xs) = try tensor(ins[0])
            let ax = try ShapeMath.normalizeAxis(axis, rank: xs.count)
            let kind: StepKind = coerce2D
                ? .softmax(outer: xs[..<ax].reduce(1, *), axis: xs[ax...].reduce(1, *), inner: 1)
                : .softmax(outer: xs[..<ax].reduce(1, *), axis: xs[ax], inner: xs[(ax + 1)...].reduce(1, *))
            emit(node, kind, inputs: [x], shape: xs)
        case let .layerNorm(axis, eps):
            let (x, xs) = try tensor(ins[0])
            let ax = try ShapeMath.normalizeAxis(axis, rank: xs.count)
            let cols = xs[ax...].reduce(1, *)
            let (g, gs) = try tensor(ins[1])
            guard gs.reduce(1, *) == cols else { throw ONNXError("scale has shape \(gs), expected \(cols) values") }
            var inputs = [x, g]
            let hasBias = ins.count > 2 && !ins[2].isEmpty
            if hasBias { inputs.append(try tensor(ins[2]).0) }
            emit(node, .layerNorm(rows: xs[..<ax].reduce(1, *), cols: cols, epsilon: eps, hasBias: hasBias), inputs: inputs, shape: xs)
        case let .cast(to):
            guard to == ONNXDataType.float.rawValue || to == ONNXDataType.double.rawValue else {
                throw ONNXError("casting a run-time tensor to type \(to) is not supported (only float tensors run)")
            }
            let (s, shape) = try tensor(ins[0])
            values[node.outputs[0]] = .tensor(storage: s, shape: shape)
        case .constantOfShape, .shape, .reshape, .flatten, .squeeze, .unsqueeze, .identity:
            throw ONNXError("needs constant inputs")
        }
    }
}
