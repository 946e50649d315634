import ETCore
import Foundation

/// Element-wise loops over broadcast operands. Each op gets its own specialised loop (a generic
/// over a static function), because a per-element `switch` costs ~1 ns/element.
enum ElementwiseKernels {
    protocol BinaryFunction { static func f(_ a: Float, _ b: Float) -> Float }
    enum Add: BinaryFunction { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a + b } }
    enum Sub: BinaryFunction { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a - b } }
    enum Mul: BinaryFunction { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a * b } }
    enum Div: BinaryFunction { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a / b } }
    enum Generic<Op: BinaryOpTag>: BinaryFunction { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { Op.op.apply(a, b) } }
    protocol BinaryOpTag { static var op: BinaryOp { get } }
    enum PowTag: BinaryOpTag { static let op = BinaryOp.pow }
    enum MaxTag: BinaryOpTag { static let op = BinaryOp.max }
    enum MinTag: BinaryOpTag { static let op = BinaryOp.min }

    static func binary(_ op: BinaryOp, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ plan: BroadcastPlan,
                       _ out: UnsafeMutablePointer<Float>) {
        switch op {
        case .add: run(Add.self, a, b, plan, out)
        case .sub: run(Sub.self, a, b, plan, out)
        case .mul: run(Mul.self, a, b, plan, out)
        case .div: run(Div.self, a, b, plan, out)
        case .pow: run(Generic<PowTag>.self, a, b, plan, out)
        case .max: run(Generic<MaxTag>.self, a, b, plan, out)
        case .min: run(Generic<MinTag>.self, a, b, plan, out)
        }
    }

    @inline(__always)
    private static func run<F: BinaryFunction>(_: F.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                                _ plan: BroadcastPlan, _ out: UnsafeMutablePointer<Float>) {
        let r = plan.dims.count
        let n = plan.dims[r - 1], sa = plan.aStrides[r - 1], sb = plan.bStrides[r - 1]
        let outer = plan.dims.dropLast().reduce(1, *)
        var idx = [Int](repeating: 0, count: max(r - 1, 0))
        var ao = 0, bo = 0, o = 0
        for _ in 0..<outer {
            let pa = a + ao, pb = b + bo, po = out + o
            switch (sa, sb) {
            case (1, 1): for i in 0..<n { po[i] = F.f(pa[i], pb[i]) }
            case (1, 0): let y = pb[0]; for i in 0..<n { po[i] = F.f(pa[i], y) }
            case (0, 1): let x = pa[0]; for i in 0..<n { po[i] = F.f(x, pb[i]) }
            default: for i in 0..<n { po[i] = F.f(pa[i * sa], pb[i * sb]) }
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

    /// out = scale · broadcast(x) over the plan's dims (the plan's `a` side describes x).
    static func broadcastCopy(_ x: UnsafePointer<Float>, _ plan: BroadcastPlan, scale: Float, _ out: UnsafeMutablePointer<Float>) {
        let total = plan.dims.reduce(1, *)
        let map = (0..<total).map { linear -> Int in
            var rem = linear, off = 0
            for d in stride(from: plan.dims.count - 1, through: 0, by: -1) {
                off += (rem % plan.dims[d]) * plan.aStrides[d]; rem /= plan.dims[d]
            }
            return off
        }
        for i in 0..<total { out[i] = scale * x[map[i]] }
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
}
