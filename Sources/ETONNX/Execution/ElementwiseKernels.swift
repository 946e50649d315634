import ETCore
import Foundation

/// Element-wise loops over broadcast operands; the inner runs use the SIMD kernels of ETCore.
enum ElementwiseKernels {
    /// The C kernel's op for ours (nil for Pow, which runs the scalar loop).
    private static func kernelOp(_ op: BinaryOp) -> ETCore.BinaryOp? {
        switch op {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        case .max: return .max
        case .min: return .min
        case .pow: return nil
        }
    }

    /// out = a op b over the plan's (merged) dims; the innermost run goes to the SIMD kernel.
    static func binary(_ op: BinaryOp, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ plan: BroadcastPlan,
                       _ out: UnsafeMutablePointer<Float>) {
        let r = plan.dims.count
        let n = plan.dims[r - 1], sa = plan.aStrides[r - 1], sb = plan.bStrides[r - 1]
        let outer = plan.dims.dropLast().reduce(1, *)
        let fast = kernelOp(op)
        // The odometer lives on the stack: no heap allocation per call.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(r - 1, 1)) { idx in
        idx.initialize(repeating: 0)
        var ao = 0, bo = 0, o = 0
        for _ in 0..<outer {
            if let fast {
                Kernels.binary(fast, count: n, a: a + ao, aStride: sa, b: b + bo, bStride: sb, y: out + o)
            } else {
                for i in 0..<n { out[o + i] = op.apply(a[ao + i * sa], b[bo + i * sb]) }
            }
            o += n
            // Advance the outer index (odometer over dims 0..<r-1).
            var d = r - 2
            while d >= 0 {
                idx[d] += 1; ao += plan.aStrides[d]; bo += plan.bStrides[d]
                if idx[d] < plan.dims[d] { break }
                ao -= plan.aStrides[d] * idx[d]; bo -= plan.bStrides[d] * idx[d]; idx[d] = 0
                d -= 1
            }
        }
        }
    }

    static func unary(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        if case let .activation(a) = op {
            if out != UnsafeMutablePointer(mutating: x) { out.update(from: x, count: n) }
            Kernels.activate(out, count: n, a)
            return
        }
        switch op {
        case .exp: for i in 0..<n { out[i] = Foundation.exp(x[i]) }
        case .log: for i in 0..<n { out[i] = Foundation.log(x[i]) }
        case .sqrt: for i in 0..<n { out[i] = x[i].squareRoot() }
        case .neg: for i in 0..<n { out[i] = -x[i] }
        case .abs: for i in 0..<n { out[i] = Swift.abs(x[i]) }
        case .tanh: for i in 0..<n { out[i] = Foundation.tanh(x[i]) }
        case .erf: for i in 0..<n { out[i] = Foundation.erf(x[i]) }
        case .reciprocal: for i in 0..<n { out[i] = 1 / x[i] }
        case .geluTanh: for i in 0..<n { out[i] = op.apply(x[i]) }
        case .activation: break
        }
    }

    /// Softmax along a middle axis: [outer × axis × inner].
    static func softmaxStrided(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int) {
        for o in 0..<outer {
            for j in 0..<inner {
                let base = o * axis * inner + j
                var m = -Float.infinity
                for k in 0..<axis { m = Swift.max(m, x[base + k * inner]) }
                var s: Float = 0
                for k in 0..<axis { let e = Foundation.exp(x[base + k * inner] - m); out[base + k * inner] = e; s += e }
                for k in 0..<axis { out[base + k * inner] /= s }
            }
        }
    }

    /// A strided view's dims with size-1 dims dropped and neighbours that step alike merged (done
    /// once, when the plan is built): [] for a single element.
    static func mergedLayout(shape: [Int], strides: [Int]) -> (dims: [Int], strides: [Int]) {
        var dims: [Int] = [], st: [Int] = []
        for (d, s) in zip(shape, strides) where d != 1 {
            if let last = dims.last, st.last! == s * d { dims[dims.count - 1] = last * d; st[st.count - 1] = s } else { dims.append(d); st.append(s) }
        }
        return (dims, st)
    }

    /// out (contiguous) = the strided view x[Σ i_d·st[d]] with `dims`/`st` from `mergedLayout`.
    /// A unit-stride innermost dim is copied in runs, and a transpose-like pair of innermost dims
    /// (the second-to-last has stride 1) in 8×8 tiles so reads stay in cache lines. Allocates nothing.
    static func stridedCopy(_ x: UnsafePointer<Float>, dims: [Int], strides st: [Int], into out: UnsafeMutablePointer<Float>) {
        if dims.contains(0) { return }
        if dims.isEmpty { out[0] = x[0]; return }
        let r = dims.count
        let inner = dims[r - 1], innerStride = st[r - 1]
        let tiled = r >= 2 && st[r - 2] == 1 && innerStride != 1
        let outerCount = dims[..<(r - (tiled ? 2 : 1))].reduce(1, *)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: r) { idx in
            idx.initialize(repeating: 0)
            var src = 0, o = out
            for _ in 0..<outerCount {
                if tiled {
                    let rows = dims[r - 2]
                    for i0 in stride(from: 0, to: rows, by: 8) {
                        for j0 in stride(from: 0, to: inner, by: 8) {
                            for i in i0..<min(i0 + 8, rows) {
                                let srow = x + src + i, drow = o + i * inner
                                for j in j0..<min(j0 + 8, inner) { drow[j] = srow[j * innerStride] }
                            }
                        }
                    }
                    o += rows * inner
                } else if innerStride == 1 {
                    o.update(from: x + src, count: inner)
                    o += inner
                } else {
                    for j in 0..<inner { o[j] = x[src + j * innerStride] }
                    o += inner
                }
                // Next outer index (odometer over the dims left of the inner block).
                var d = r - (tiled ? 3 : 2)
                while d >= 0 {
                    idx[d] += 1; src += st[d]
                    if idx[d] < dims[d] { break }
                    src -= st[d] * dims[d]; idx[d] = 0; d -= 1
                }
            }
        }
    }

    /// BatchNormalization with run-time parameters, and training mode: the batch mean and
    /// (population) variance per channel over N and the spatial axes, accumulated in Double.
    /// `output` 0 writes Y; 1 and 2 the running mean and variance.
    static func batchNorm(x: UnsafePointer<Float>, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                          variance: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int, epsilon: Float, momentum: Float,
                          training: Bool, output: Int, into y: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            var mu = mean[c], v = variance[c]
            if training {
                var sum = 0.0, squares = 0.0
                for n in 0..<batch {
                    let row = x + (n * channels + c) * spatial
                    for i in 0..<spatial { let d = Double(row[i]); sum += d; squares += d * d }
                }
                let count = Double(batch * spatial), m = sum / count
                mu = Float(m); v = Float(max(0, squares / count - m * m))
                if output == 1 { y[c] = mean[c] * momentum + mu * (1 - momentum); continue }
                if output == 2 { y[c] = variance[c] * momentum + v * (1 - momentum); continue }
            }
            let a = scale[c] / (v + epsilon).squareRoot(), b = bias[c] - mu * a
            for n in 0..<batch {
                let base = (n * channels + c) * spatial
                for i in base..<(base + spatial) { y[i] = x[i] * a + b }
            }
        }
    }

    /// Per row of `cols` values: the mean, or 1/√(variance + ε) (LayerNormalization's extra outputs).
    static func rowStatistics(_ x: UnsafePointer<Float>, rows: Int, cols: Int, epsilon: Float, inverseStd: Bool, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var sum = 0.0, squares = 0.0
            for j in 0..<cols { let d = Double(x[r * cols + j]); sum += d; squares += d * d }
            let m = sum / Double(cols), v = max(0, squares / Double(cols) - m * m)
            y[r] = inverseStd ? Float(1 / (v + Double(epsilon)).squareRoot()) : Float(m)
        }
    }
}
