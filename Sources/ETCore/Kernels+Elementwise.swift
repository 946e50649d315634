import CKernels

/// Element-wise binary operations (ONNX Add, Sub, Mul, Div, Max, Min).
public enum BinaryOp: Int32, Sendable, CaseIterable {
    case add, sub, mul, div, max, min

    /// Scalar reference (`max`/`min` as `a > b ? a : b` / `a < b ? a : b`).
    @inlinable
    public func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .max: return a > b ? a : b
        case .min: return a < b ? a : b
        }
    }
}

extension Kernels {
    /// y[i] = activation(a[i·aStride] op b[i·bStride]) for i < count. A stride of 0 broadcasts one
    /// value (e.g. a per-channel scale over one channel's plane). `y` may be `a` or `b` when that
    /// operand's stride is 1.
    public static func binary(_ op: BinaryOp, count: Int, a: UnsafePointer<Float>, aStride: Int,
                              b: UnsafePointer<Float>, bStride: Int, y: UnsafeMutablePointer<Float>,
                              activation: Activation = .identity) {
        if count <= 0 { return }
        var act = activation.ck
        ck_binary(op.rawValue, count, a, aStride, b, bStride, y, &act)
    }

    /// NumPy/ONNX broadcast of two shapes (right-aligned; each pair of dims equal or one is 1),
    /// or nil when they do not broadcast.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da != db && da != 1 && db != 1 { return nil }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// y = activation(a op b) with NumPy/ONNX broadcasting; y has `broadcastShape(aShape, bShape)`
    /// (the caller checks that it exists). Dimensions are merged where both operands are
    /// contiguous or both broadcast, so same-shape and per-channel cases run as long SIMD runs.
    public static func binary(_ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>,
                              bShape: [Int], y: UnsafeMutablePointer<Float>, activation: Activation = .identity) {
        guard let shape = broadcastShape(aShape, bShape) else {
            preconditionFailure("Kernels.binary: shapes \(aShape) and \(bShape) do not broadcast")
        }
        let dims = BroadcastDims(shape: shape, aShape: aShape, bShape: bShape)
        if dims.total == 0 { return }
        var act = activation.ck
        let inner = dims.shape.count - 1
        let n = dims.shape[inner], sa = dims.aStrides[inner], sb = dims.bStrides[inner]
        var index = [Int](repeating: 0, count: inner)
        var offA = 0, offB = 0, offY = 0
        while true {
            ck_binary(op.rawValue, n, a + offA, sa, b + offB, sb, y + offY, &act)
            offY += n
            // Odometer over the outer dimensions.
            var d = inner - 1
            while d >= 0 {
                index[d] += 1
                offA += dims.aStrides[d]; offB += dims.bStrides[d]
                if index[d] < dims.shape[d] { break }
                offA -= dims.aStrides[d] * dims.shape[d]; offB -= dims.bStrides[d] * dims.shape[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { break }
        }
    }
}

/// Output dims and per-operand element strides (0 where broadcast), with mergeable neighbours merged.
struct BroadcastDims {
    var shape: [Int], aStrides: [Int], bStrides: [Int]
    var total: Int { shape.reduce(1, *) }

    init(shape out: [Int], aShape: [Int], bShape: [Int]) {
        func strides(_ s: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: out.count - s.count) + s
            var st = [Int](repeating: 0, count: out.count), acc = 1
            for i in stride(from: out.count - 1, through: 0, by: -1) {
                st[i] = padded[i] == 1 ? 0 : acc
                acc *= padded[i]
            }
            return st
        }
        var s = out.isEmpty ? [1] : out
        var sa = out.isEmpty ? [0] : strides(aShape), sb = out.isEmpty ? [0] : strides(bShape)
        // Drop size-1 dims, then merge i into i+1 when both operands step consistently.
        var i = s.count - 2
        while i >= 0 {
            if s[i] == 1 {
                s.remove(at: i); sa.remove(at: i); sb.remove(at: i)
            } else if sa[i] == sa[i + 1] * s[i + 1] && sb[i] == sb[i + 1] * s[i + 1] {
                s[i + 1] *= s[i]
                s.remove(at: i); sa.remove(at: i); sb.remove(at: i)
            }
            i -= 1
        }
        if s.count > 1 && s.last == 1 { s.removeLast(); sa.removeLast(); sb.removeLast() }
        shape = s; aStrides = sa; bStrides = sb
    }
}
