import ETCore

/// Shape arithmetic shared by planning (shape inference) and constant folding.
enum ShapeMath {
    struct Failure: Error { var message: String }

    static func normalizeAxis(_ axis: Int, rank: Int) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        // Strict: callers index the shape with the result, so a scalar (rank 0) has no axis. The
        // `onnx` fuzz target found Slice of a scalar reading shape[0].
        guard a >= 0 && a < rank else { throw Failure(message: "axis \(axis) is out of range for rank \(rank)") }
        return a
    }

    /// NumPy broadcasting of two shapes.
    static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            guard da == db || da == 1 || db == 1 else { throw Failure(message: "shapes \(a) and \(b) do not broadcast") }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides of `shape` right-aligned into `rank` dims, 0 where the dim is broadcast.
    static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
        let r = out.count
        let st = Tensor.strides(of: shape)
        var s = [Int](repeating: 0, count: r)
        for i in 0..<shape.count {
            let o = i + (r - shape.count)
            s[o] = shape[i] == 1 && out[o] != 1 ? 0 : st[i]
        }
        return s
    }


    /// Product of dims; fails instead of overflowing on corrupt shapes.
    static func count(_ shape: [Int]) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw Failure(message: "negative dimension in \(shape)") }
            let (r, o) = n.multipliedReportingOverflow(by: d)
            guard !o, r <= 1 << 34 else { throw Failure(message: "shape \(shape) is too large") }
            n = r
        }
        return n
    }

    static func checkPermutation(_ perm: [Int], rank: Int) throws {
        guard perm.sorted() == Array(0..<rank) else { throw Failure(message: "perm \(perm) does not fit rank \(rank)") }
    }

    /// ONNX Reshape: 0 copies the input dim (unless allowzero), -1 is inferred.
    static func reshape(_ input: [Int], to spec: [Int], allowZero: Bool) throws -> [Int] {
        var out = spec
        let total = input.reduce(1, *)
        var inferred: Int? = nil
        for (i, d) in spec.enumerated() {
            if d == 0 && !allowZero {
                guard i < input.count else { throw Failure(message: "reshape spec \(spec): 0 at position \(i) has no input dim") }
                out[i] = input[i]
            } else if d == -1 {
                guard inferred == nil else { throw Failure(message: "reshape spec \(spec) has two -1") }
                inferred = i
            } else if d < -1 {
                throw Failure(message: "reshape spec \(spec) has a negative dim")
            }
        }
        if let k = inferred {
            let known = try count(out.enumerated().filter { $0.offset != k }.map(\.element))
            guard known > 0, total % known == 0 else { throw Failure(message: "cannot reshape \(input) to \(spec)") }
            out[k] = total / known
        }
        guard try count(out) == total else { throw Failure(message: "cannot reshape \(input) (\(total) elements) to \(spec)") }
        return out
    }

    /// For each output element (row-major), the index of the input element it copies.
    /// Used for Transpose and Slice, both at run time (tiny tensors in these models) and when folding.
    static func transposeIndexMap(_ shape: [Int], perm: [Int]) -> (shape: [Int], map: [Int32]) {
        let outShape = perm.map { shape[$0] }
        let inStrides = Tensor.strides(of: shape)
        let permStrides = perm.map { inStrides[$0] }
        return (outShape, indexMap(outShape, strides: permStrides, base: 0))
    }

    /// Normalised (start, step, count) per axis for ONNX Slice, clamped as the spec says.
    static func sliceGeometry(_ shape: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws
        -> (shape: [Int], begin: [Int], step: [Int]) {
        let r = shape.count
        let axesN = try (axes ?? Array(0..<starts.count)).map { try normalizeAxis($0, rank: r) }
        guard starts.count == ends.count, axesN.count == starts.count, (steps?.count ?? starts.count) == starts.count else {
            throw Failure(message: "slice starts/ends/axes/steps lengths differ")
        }
        var begin = [Int](repeating: 0, count: r), step = [Int](repeating: 1, count: r), outShape = shape
        for (i, ax) in axesN.enumerated() {
            let d = shape[ax], st = steps?[i] ?? 1
            guard st != 0 else { throw Failure(message: "slice step 0") }
            var s = starts[i], e = ends[i]
            if s < 0 { s += d }
            if e < 0 { e += d }
            if st > 0 {
                s = min(max(s, 0), d); e = min(max(e, 0), d)
                outShape[ax] = max(0, (e - s + st - 1) / st)
            } else {
                s = min(max(s, -1), d - 1); e = min(max(e, -1), d - 1)
                outShape[ax] = max(0, (s - e + (-st) - 1) / (-st))
            }
            begin[ax] = s; step[ax] = st
        }
        return (outShape, begin, step)
    }

    static func slice(_ shape: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws -> (shape: [Int], map: [Int32]) {
        let (outShape, begin, step) = try sliceGeometry(shape, starts: starts, ends: ends, axes: axes, steps: steps)
        let inStrides = Tensor.strides(of: shape)
        var base = 0
        for a in 0..<shape.count { base += begin[a] * inStrides[a] }
        let strides = (0..<shape.count).map { inStrides[$0] * step[$0] }
        return (outShape, indexMap(outShape, strides: strides, base: base))
    }

    /// Strides that give a strided layout (`shape`, `strides`) the shape `newShape` without moving
    /// data (NumPy's no-copy reshape), or nil when the data would have to move.
    static func reshapeStrides(_ shape: [Int], _ strides: [Int], to newShape: [Int]) -> [Int]? {
        // Drop size-1 dims (their stride is irrelevant), then match groups of old and new dims
        // with equal products; each old group must be contiguous within itself.
        let old = zip(shape, strides).filter { $0.0 != 1 }
        var out = [Int](repeating: 0, count: newShape.count)
        var i = 0, j = 0
        let newIdx = newShape.indices.filter { newShape[$0] != 1 }
        while i < old.count || j < newIdx.count {
            guard i < old.count, j < newIdx.count else { return nil }
            var po = old[i].0, pn = newShape[newIdx[j]]
            var i1 = i + 1, j1 = j + 1
            while po != pn {
                if po < pn { guard i1 < old.count else { return nil }; po *= old[i1].0; i1 += 1 }
                else { guard j1 < newIdx.count else { return nil }; pn *= newShape[newIdx[j1]]; j1 += 1 }
            }
            for k in i..<(i1 - 1) where old[k].1 != old[k + 1].1 * old[k + 1].0 { return nil }
            var st = old[i1 - 1].1
            for k in stride(from: j1 - 1, through: j, by: -1) { out[newIdx[k]] = st; st *= newShape[newIdx[k]] }
            i = i1; j = j1
        }
        // Size-1 dims: any stride works; give them the next dim's extent so the layout reads naturally.
        for k in newShape.indices.reversed() where newShape[k] == 1 {
            out[k] = k + 1 < newShape.count ? out[k + 1] * newShape[k + 1] : 1
        }
        return out
    }

    private static func indexMap(_ outShape: [Int], strides: [Int], base: Int) -> [Int32] {
        let n = outShape.reduce(1, *)
        var map = [Int32](repeating: 0, count: n)
        guard n > 0 else { return map }
        var idx = [Int](repeating: 0, count: outShape.count)
        var src = base
        for o in 0..<n {
            map[o] = Int32(src)
            var d = outShape.count - 1
            while d >= 0 {
                idx[d] += 1
                src += strides[d]
                if idx[d] < outShape[d] { break }
                src -= strides[d] * idx[d]
                idx[d] = 0
                d -= 1
            }
        }
        return map
    }
}
