import ETCore
import Foundation

/// A model prepared for one set of input shapes: shapes inferred from the actual inputs (the
/// declared dims are not trusted), shape arithmetic folded, and every intermediate placed in one
/// arena planned once by liveness. Running it allocates nothing.
///
/// Thread-safety: a plan holds the activations of one run; use one plan per thread (per tracker).
/// Many plans can share one `ONNXModel`.
public final class ExecutionPlan {
    public let model: ONNXModel
    public let inputShapes: [String: [Int]]
    /// Shapes of the graph outputs for these inputs.
    public private(set) var outputShapes: [String: [Int]] = [:]
    /// Outputs known when the plan is built (integer outputs always are).
    private let outputConstants: [String: ConstantValue]
    public let pool: ThreadPool

    var steps: [Step] = []
    /// Element offset of each storage in the arena.
    var storageOffsets: [Int] = []
    var storageCounts: [Int] = []
    var inputStorage: [String: Int] = [:]
    var outputStorage: [String: Int] = [:]
    /// Steps that depend only on static inputs, and whether they must run again.
    let isStaticStep: [Bool]
    private let staticInputStorages: Set<Int>
    private var staticStale = true
    private var arena: UnsafeMutablePointer<Float>
    private var arenaCount: Int
    private var scratch: UnsafeMutablePointer<Float>?

    /// Seconds spent in each step over all runs while `profiling` is on.
    public var profiling = false
    public private(set) var stepSeconds: [Double] = []

    /// Builds a plan for the given input shapes (NCHW etc.).
    /// - Throws: `ONNXError` naming the file and node when shapes do not fit.
    ///
    /// - Parameter staticInputs: Inputs that change rarely (a tracker's template). Steps that
    ///   depend only on them run once after they change (detected when their buffer is asked for
    ///   with `inputBuffer`), not on every `run()`.
    ///
    /// - Parameter inputValues: The values of integer and bool inputs (shapes, axes, indices).
    ///   The engine computes in float32; integer inputs are bound when the plan is built, as
    ///   constants are, so a new value needs a new plan.
    public init(model: ONNXModel, inputShapes: [String: [Int]], inputValues: [String: ONNXTensorValue] = [:],
                staticInputs: Set<String> = [], pool: ThreadPool = .serial) throws {
        self.model = model
        self.inputShapes = inputShapes
        self.pool = pool
        var builder = PlanBuilder(model: model, staticInputs: staticInputs)
        try builder.build(inputShapes: inputShapes, inputValues: inputValues)
        outputConstants = builder.outputConstants
        steps = builder.steps
        isStaticStep = builder.steps.indices.map { builder.staticSteps.contains($0) }
        staticInputStorages = Set(staticInputs.compactMap { builder.inputStorage[$0] })
        storageCounts = builder.storages.map(\.count)
        inputStorage = builder.inputStorage
        outputStorage = builder.outputStorage
        outputShapes = builder.outputShapes
        // Place storages in the arena: pinned ones first, the rest greedily by liveness.
        storageOffsets = MemoryPlanner.place(builder.storages)
        arenaCount = zip(storageOffsets, storageCounts).map { $0 + $1 }.max() ?? 0
        arena = .allocate(capacity: max(arenaCount, 1))
        arena.initialize(repeating: 0, count: max(arenaCount, 1))
        for (s, values) in builder.constantData {
            values.withUnsafeBufferPointer { arena.advanced(by: storageOffsets[s]).update(from: $0.baseAddress!, count: values.count) }
        }
        let scratchCount = builder.scratchCount
        if scratchCount > 0 { scratch = .allocate(capacity: scratchCount); scratch!.initialize(repeating: 0, count: scratchCount) }
        stepSeconds = [Double](repeating: 0, count: steps.count)
    }

    deinit {
        arena.deallocate()
        scratch?.deallocate()
    }

    /// Floats of activation memory this plan holds (inputs, outputs and intermediates).
    public var arenaFloatCount: Int { arenaCount }

    /// The buffer of a graph input; write the input here before `run()`.
    public func inputBuffer(_ name: String) -> UnsafeMutableBufferPointer<Float> {
        guard let s = inputStorage[name] else { preconditionFailure("\(model.path): no input named '\(name)'") }
        if staticInputStorages.contains(s) { staticStale = true }  // the caller is about to write it
        return UnsafeMutableBufferPointer(start: arena + storageOffsets[s], count: storageCounts[s])
    }

    /// The buffer of a graph output, valid after `run()` until the next run.
    public func outputBuffer(_ name: String) -> UnsafeBufferPointer<Float> {
        guard let s = outputStorage[name] else { preconditionFailure("\(model.path): no output named '\(name)'") }
        return UnsafeBufferPointer(start: arena + storageOffsets[s], count: storageCounts[s])
    }

    /// A graph output after `run()`, as a host tensor: float32, or int64 data for an integer
    /// output (those are always plan-time values: the engine computes in float32).
    public func outputValue(_ name: String) -> ONNXTensorValue {
        let shape = outputShapes[name]!
        if let c = outputConstants[name], let ints = c.ints { return ONNXTensorValue(name: name, dims: shape, int64s: ints) }
        return ONNXTensorValue(name: name, dims: shape, floats: Array(outputBuffer(name)))
    }

    /// Runs the graph on what the input buffers hold.
    public func run() {
        let runStatic = staticStale
        staticStale = false
        for i in steps.indices {
            if !runStatic && isStaticStep[i] { continue }
            if profiling {
                let t0 = DispatchTime.now().uptimeNanoseconds
                execute(steps[i])
                stepSeconds[i] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            } else {
                execute(steps[i])
            }
        }
    }

    /// Convenience: copies `inputs` in, runs, and copies every output out.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        for (name, shape) in inputShapes {
            guard let t = inputs[name] else { throw ONNXError("\(model.path): missing input '\(name)'") }
            guard t.shape == shape else { throw ONNXError("\(model.path): input '\(name)' has shape \(t.shape), the plan was built for \(shape)") }
            let b = inputBuffer(name)
            t.data.withUnsafeBufferPointer { b.baseAddress!.update(from: $0.baseAddress!, count: t.count) }
        }
        run()
        var out: [String: Tensor] = [:]
        for name in model.outputNames {
            out[name] = Tensor(shape: outputShapes[name]!, data: Array(outputBuffer(name)))
        }
        return out
    }

    /// Per-step profile: node name, op, MACs and mean microseconds per run over `runs` runs.
    public func profile(runs: Int) -> [(node: String, op: String, macs: Int, microseconds: Double)] {
        steps.indices.map { (steps[$0].node, steps[$0].opName, steps[$0].macs, stepSeconds[$0] / Double(max(runs, 1)) * 1e6) }
    }

    public func resetProfile() { stepSeconds = [Double](repeating: 0, count: steps.count) }

    @inline(__always) private func ptr(_ storage: Int) -> UnsafeMutablePointer<Float> { arena + storageOffsets[storage] }

    private func execute(_ s: Step) {
        let out = ptr(s.output)
        switch s.kind {
        case let .conv(conv, batch, inH, inW):
            // Images one after another: each is one full-width GEMM, so batching them adds nothing.
            let p = conv.parameters, (oh, ow) = p.outputSize(inH: inH, inW: inW)
            let inCount = p.inChannels * inH * inW, outCount = p.outChannels * oh * ow
            for i in 0..<batch {
                conv.forward(input: ptr(s.inputs[0]) + i * inCount, inH: inH, inW: inW, output: out + i * outCount, scratch: scratch, pool: pool)
            }
        case let .convDynamic(p, act, batch, inH, inW, hasBias):
            let (oh, ow) = p.outputSize(inH: inH, inW: inW)
            let inCount = p.inChannels * inH * inW, outCount = p.outChannels * oh * ow
            for i in 0..<batch {
                Kernels.conv2d(p, input: ptr(s.inputs[0]) + i * inCount, inH: inH, inW: inW, weight: ptr(s.inputs[1]),
                               bias: hasBias ? UnsafePointer(ptr(s.inputs[2])) : nil, activation: act, output: out + i * outCount, pool: pool)
            }
        case let .gemm(m, n, k, ta, tb, alpha, beta, act, cMode, packedB):
            let a = ptr(s.inputs[0]), b = ptr(s.inputs[1])
            var accumulate = false
            var bias: UnsafePointer<Float>? = nil
            switch cMode {
            case .none: break
            case .rowVector: bias = UnsafePointer(ptr(s.inputs[2]))
            case let .broadcast(map):
                let cData = ptr(s.inputs[2]), scale = beta / alpha
                for i in map.indices { out[i] = scale * cData[Int(map[i])] }
                accumulate = true
            }
            if alpha == 1, let packedB {
                Kernels.gemm(m: m, n: n, k: k, a: a, lda: ta ? m : k, transA: ta, b: packedB,
                             c: out, ldc: n, accumulate: accumulate, bias: bias, activation: act, pool: pool)
            } else if alpha == 1 {
                Kernels.gemm(m: m, n: n, k: k, a: a, lda: ta ? m : k, transA: ta, b: b, ldb: tb ? k : n, transB: tb,
                             c: out, ldc: n, accumulate: accumulate, bias: bias, activation: act, pool: pool)
            } else {
                Kernels.gemm(m: m, n: n, k: k, a: a, lda: ta ? m : k, transA: ta, b: b, ldb: tb ? k : n, transB: tb,
                             c: out, ldc: n, accumulate: accumulate, pool: pool)
                for i in 0..<(m * n) { out[i] *= alpha }
                if let bias { for i in 0..<m { for j in 0..<n { out[i * n + j] += bias[j] } } }
                Kernels.activate(out, count: m * n, act)
            }
        case let .matMul(m, n, k, batches, fa, fb, ldc, act, packedB):
            let a = ptr(s.inputs[0]), b = ptr(s.inputs[1])
            for (ao, bo, co) in batches {
                if let packedB {
                    Kernels.gemm(m: m, n: n, k: k, a: a + ao, lda: fa.ld, transA: fa.trans, b: packedB, c: out + co, ldc: ldc,
                                 activation: act, pool: pool)
                } else {
                    Kernels.gemm(m: m, n: n, k: k, a: a + ao, lda: fa.ld, transA: fa.trans, b: b + bo, ldb: fb.ld, transB: fb.trans,
                                 c: out + co, ldc: ldc, activation: act, pool: pool)
                }
            }
        case let .attention(batches, n, keys, dk, dv, fq, fk, fv, ldo, scale, act, block):
            // Scores E = exp(scale·(Q·K − max)) per row block; O = (E·V) / Σ, then the activation.
            let q = ptr(s.inputs[0]), k = ptr(s.inputs[1]), v = ptr(s.inputs[2])
            let scores = scratch!, inv = scratch! + block * keys
            for (qo, ko, vo, oo) in batches {
                var r0 = 0
                while r0 < n {
                    let rows = min(block, n - r0)
                    Kernels.gemm(m: rows, n: keys, k: dk, a: q + qo + (fq.trans ? r0 : r0 * fq.ld), lda: fq.ld, transA: fq.trans,
                                 b: k + ko, ldb: fk.ld, transB: fk.trans, c: scores, ldc: keys, pool: pool)
                    Kernels.softmaxUnnormalized(rows: rows, cols: keys, scores, scale: scale, reciprocalSums: inv)
                    let o = out + oo + r0 * ldo
                    Kernels.gemm(m: rows, n: dv, k: keys, a: scores, lda: keys, transA: false, b: v + vo, ldb: fv.ld, transB: fv.trans,
                                 c: o, ldc: ldo, pool: pool)
                    for r in 0..<rows {
                        let row = o + r * ldo, f = inv[r]
                        for j in 0..<dv { row[j] *= f }
                        if act != .identity { Kernels.activate(row, count: dv, act) }
                    }
                    r0 += rows
                }
            }
        case let .binary(op, plan):
            ElementwiseKernels.binary(op, ptr(s.inputs[0]), ptr(s.inputs[1]), plan, out)
        case let .unary(op, count):
            ElementwiseKernels.unary(op, ptr(s.inputs[0]), out, count)
        case let .globalAveragePool(c, spatial):
            Kernels.globalAveragePool(channels: c, spatial: spatial, x: ptr(s.inputs[0]), y: out)
        case let .gather(map):
            let x = ptr(s.inputs[0])
            for i in map.indices { out[i] = x[Int(map[i])] }
        case let .concat(outer, chunks):
            var o = out
            for blk in 0..<outer {
                for (j, c) in chunks.enumerated() {
                    o.update(from: ptr(s.inputs[j]) + blk * c, count: c)
                    o += c
                }
            }
        case let .softmax(outer, axis, inner, scale):
            if inner == 1 {
                if out != ptr(s.inputs[0]) { out.update(from: ptr(s.inputs[0]), count: outer * axis) }
                Kernels.softmax(rows: outer, cols: axis, out, scale: scale)
            } else {
                ElementwiseKernels.softmaxStrided(ptr(s.inputs[0]), out, outer: outer, axis: axis, inner: inner)
            }
        case let .stridedCopy(dims, strides, offset):
            ElementwiseKernels.stridedCopy(ptr(s.inputs[0]) + offset, dims: dims, strides: strides, into: out)
        case let .layerNorm(rows, cols, eps, hasBias):
            Kernels.layerNorm(rows: rows, cols: cols, x: ptr(s.inputs[0]), gamma: ptr(s.inputs[1]),
                              beta: hasBias ? UnsafePointer(ptr(s.inputs[2])) : nil, epsilon: eps, y: out)
        case let .affine(batch, channels, spatial, scale, shift):
            let x = ptr(s.inputs[0])
            for n in 0..<batch {
                for c in 0..<channels {
                    let a = scale[c], b = shift[c], base = (n * channels + c) * spatial
                    for i in base..<(base + spatial) { out[i] = x[i] * a + b }
                }
            }
        case let .batchNorm(g, eps, momentum, training, output):
            ElementwiseKernels.batchNorm(x: ptr(s.inputs[0]), scale: ptr(s.inputs[1]), bias: ptr(s.inputs[2]), mean: ptr(s.inputs[3]),
                                         variance: ptr(s.inputs[4]), batch: g.batch, channels: g.channels, spatial: g.spatial,
                                         epsilon: eps, momentum: momentum, training: training, output: output, into: out)
        case let .rowStatistics(rows, cols, eps, inverseStd):
            ElementwiseKernels.rowStatistics(ptr(s.inputs[0]), rows: rows, cols: cols, epsilon: eps, inverseStd: inverseStd, into: out)
        case let .copy(count):
            if out != ptr(s.inputs[0]) { out.update(from: ptr(s.inputs[0]), count: count) }
        }
    }
}
