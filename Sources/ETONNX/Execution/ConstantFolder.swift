/// Evaluates shape-manipulating and element-wise ops on constants while a plan is built, so
/// exported shape arithmetic (Shape → Gather → Concat → Reshape) never runs per frame.
enum ConstantFolder {
    /// The folded value, or nil when the op is not folded (it then runs at run time on materialised constants).
    static func fold(_ op: Operator, _ x: [ConstantValue?]) throws -> ConstantValue? {
        guard let a = x.first ?? nil else { return nil }
        switch op {
        case let .binary(b):
            guard x.count == 2, let c = x[1] else { return nil }
            let out = try ShapeMath.broadcast(a.shape, c.shape)
            let plan = BroadcastPlan(a: a.shape, b: c.shape, out: out)
            let (ia, ib) = broadcastIndices(plan, count: out.reduce(1, *))
            if let ai = a.ints, let ci = c.ints {
                return ConstantValue(shape: out, ints: zip(ia, ib).map { b.applyInt(ai[$0], ci[$1]) })
            }
            let af = a.asFloats, cf = c.asFloats
            return ConstantValue(shape: out, floats: zip(ia, ib).map { b.apply(af[$0], cf[$1]) })
        case let .nary(b, mean):
            let parts = x.compactMap { $0 }
            guard parts.count == x.count else { return nil }
            var acc = parts[0]
            for p in parts.dropFirst() { acc = try fold(.binary(b), [acc, p])! }
            guard mean else { return acc }
            return ConstantValue(shape: acc.shape, floats: acc.asFloats.map { $0 / Float(parts.count) })
        case let .unary(u):
            if let i = a.ints {
                // Integers stay integers where the op is defined on them (Neg, Abs, Relu, Clip).
                var out: [Int64] = []
                out.reserveCapacity(i.count)
                for v in i {
                    if let r = u.applyInt(v) { out.append(r) } else if case let .activation(.clip(lo, hi)) = u {
                        out.append(Int64(Swift.min(Swift.max(Double(v), Double(lo)), Double(hi))))
                    } else { return ConstantValue(shape: a.shape, floats: a.asFloats.map { u.apply($0) }) }
                }
                return ConstantValue(shape: a.shape, ints: out)
            }
            return ConstantValue(shape: a.shape, floats: a.floats!.map { u.apply($0) })
        case let .reshape(allowZero):
            guard x.count == 2, let spec = x[1] else { return nil }
            return with(a, shape: try ShapeMath.reshape(a.shape, to: spec.asInts, allowZero: allowZero))
        case .flatten, .squeeze, .unsqueeze, .identity:
            return with(a, shape: try PlanBuilder.viewShape(op, a.shape, x.count > 1 ? x[1]?.asInts : nil))
        case let .transpose(perm):
            let p = perm ?? Array((0..<a.shape.count).reversed())
            try ShapeMath.checkPermutation(p, rank: a.shape.count)
            let (shape, map) = ShapeMath.transposeIndexMap(a.shape, perm: p)
            return gathered(a, shape: shape, map: map)
        case let .concat(axis):
            let parts = x.compactMap { $0 }
            guard parts.count == x.count else { return nil }
            let ax = try ShapeMath.normalizeAxis(axis, rank: a.shape.count)
            for p in parts where p.shape.count != a.shape.count || (0..<a.shape.count).contains(where: { $0 != ax && p.shape[$0] != a.shape[$0] }) {
                throw ShapeMath.Failure(message: "shapes \(parts.map(\.shape)) cannot be concatenated on axis \(axis)")
            }
            var shape = a.shape
            shape[ax] = parts.map { $0.shape[ax] }.reduce(0, +)
            let outer = a.shape[..<ax].reduce(1, *)
            let chunks = parts.map { $0.shape[ax...].reduce(1, *) }
            if parts.allSatisfy({ $0.ints != nil }) {
                var out: [Int64] = []
                for o in 0..<outer { for (p, c) in zip(parts, chunks) { out += p.ints![(o * c)..<((o + 1) * c)] } }
                return ConstantValue(shape: shape, ints: out)
            }
            var out: [Float] = []
            for o in 0..<outer { for (p, c) in zip(parts, chunks) { out += p.asFloats[(o * c)..<((o + 1) * c)] } }
            return ConstantValue(shape: shape, floats: out)
        case let .slice(starts, ends, axes):
            let (shape, map): ([Int], [Int32])
            if let starts, let ends {
                (shape, map) = try ShapeMath.slice(a.shape, starts: starts, ends: ends, axes: axes, steps: nil)
            } else {
                guard x.count >= 3, let s = x[1], let e = x[2] else { return nil }
                let ax = x.count > 3 ? x[3]?.asInts : nil, st = x.count > 4 ? x[4]?.asInts : nil
                (shape, map) = try ShapeMath.slice(a.shape, starts: s.asInts, ends: e.asInts, axes: ax, steps: st)
            }
            return gathered(a, shape: shape, map: map)
        case let .gather(axis):
            guard x.count == 2, let idx = x[1] else { return nil }
            let (shape, map) = try PlanBuilder.gatherMap(a.shape, axis: axis, indices: idx)
            return gathered(a, shape: shape, map: map)
        case let .cast(to):
            return try cast(a, to: ONNXDataType(rawValue: to)!)
        case let .constantOfShape(value):
            let shape = a.asInts
            guard shape.allSatisfy({ $0 >= 0 }) else { throw ShapeMath.Failure(message: "negative dimension in shape \(shape)") }
            let n = try ShapeMath.count(shape)
            if let i = value.ints { return ConstantValue(shape: shape, ints: [Int64](repeating: i[0], count: n)) }
            return ConstantValue(shape: shape, floats: [Float](repeating: value.floats![0], count: n))
        default:
            return nil
        }
    }

    /// Cast as ONNX (and NumPy's astype) defines it for the types we hold: float → integer
    /// truncates toward zero, integers wrap to the target width, anything non-zero is true.
    static func cast(_ a: ConstantValue, to t: ONNXDataType) throws -> ConstantValue {
        switch t {
        case .float, .double, .float16:
            return ConstantValue(shape: a.shape, floats: a.asFloats)
        case .bool:
            return ConstantValue(shape: a.shape, ints: a.ints?.map { $0 != 0 ? 1 : 0 } ?? a.floats!.map { $0 != 0 ? 1 : 0 })
        default:
            let wide: [Int64] = try a.ints ?? a.floats!.map { f in
                guard f.isFinite, abs(f) < 9.2e18 else { throw ShapeMath.Failure(message: "cannot cast \(f) to \(t)") }
                return Int64(f)
            }
            let wrapped: [Int64]
            switch t {
            case .int8: wrapped = wide.map { Int64(Int8(truncatingIfNeeded: $0)) }
            case .uint8: wrapped = wide.map { Int64(UInt8(truncatingIfNeeded: $0)) }
            case .int16: wrapped = wide.map { Int64(Int16(truncatingIfNeeded: $0)) }
            case .uint16: wrapped = wide.map { Int64(UInt16(truncatingIfNeeded: $0)) }
            case .int32: wrapped = wide.map { Int64(Int32(truncatingIfNeeded: $0)) }
            case .uint32: wrapped = wide.map { Int64(UInt32(truncatingIfNeeded: $0)) }
            default: wrapped = wide
            }
            return ConstantValue(shape: a.shape, ints: wrapped)
        }
    }

    private static func with(_ a: ConstantValue, shape: [Int]) -> ConstantValue {
        var c = a; c.shape = shape; return c
    }

    private static func gathered(_ a: ConstantValue, shape: [Int], map: [Int32]) -> ConstantValue {
        if let i = a.ints { return ConstantValue(shape: shape, ints: map.map { i[Int($0)] }) }
        let f = a.floats!
        return ConstantValue(shape: shape, floats: map.map { f[Int($0)] })
    }

    private static func broadcastIndices(_ plan: BroadcastPlan, count: Int) -> ([Int], [Int]) {
        var ia = [Int](), ib = [Int]()
        ia.reserveCapacity(count); ib.reserveCapacity(count)
        for linear in 0..<count {
            var rem = linear, oa = 0, ob = 0
            for d in stride(from: plan.dims.count - 1, through: 0, by: -1) {
                let i = rem % plan.dims[d]; rem /= plan.dims[d]
                oa += i * plan.aStrides[d]; ob += i * plan.bStrides[d]
            }
            ia.append(oa); ib.append(ob)
        }
        return (ia, ib)
    }
}
