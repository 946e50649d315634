import ETCore
import ETTestSupport
import ETTraining
import XCTest

/// Every layer's hand-written backward pass against float64 central differences of its own
/// forward pass (the same generic code run in Double), for parameters and inputs.
final class LayerGradientTests: XCTestCase {
    /// Worst relative error seen by the layer checks (printed for the closing note).
    static var worst: [String: Double] = [:]

    /// L = Σ r ⊙ forward(p, x); checks backward's ∂L/∂p and ∂L/∂x at every index.
    /// `prepare` adjusts the random values once (a positive variance, a wider input range);
    /// `frozen` parameters (running statistics) are neither probed nor compared.
    func check(_ name: String, params pCount: Int, inputs xCount: Int, seed: UInt64, tolerance: Double = 1e-5,
               frozen: Range<Int> = 0..<0, prepare: ((MP<Double>, MP<Double>) -> Void)? = nil,
               forward: (MP<Double>, MP<Double>) -> [Double],
               backward: (MP<Double>, MP<Double>, [Double], MP<Double>, MP<Double>) -> Void,
               file: StaticString = #filePath, line: UInt = #line) {
        var p = seededValues(pCount, seed: seed), x = seededValues(xCount, seed: seed + 1)
        var gp = [Double](repeating: 0, count: pCount), gx = [Double](repeating: 0, count: xCount)
        p.withUnsafeMutableBufferPointer { pp in
            x.withUnsafeMutableBufferPointer { xp in
                prepare?(pp.baseAddress!, xp.baseAddress!)
                let r = seededValues(forward(pp.baseAddress!, xp.baseAddress!).count, seed: seed + 2)
                func loss() -> Double { zip(forward(pp.baseAddress!, xp.baseAddress!), r).reduce(0) { $0 + $1.0 * $1.1 } }
                _ = forward(pp.baseAddress!, xp.baseAddress!)
                gp.withUnsafeMutableBufferPointer { g in
                    gx.withUnsafeMutableBufferPointer { d in backward(pp.baseAddress!, xp.baseAddress!, r, g.baseAddress!, d.baseAddress!) }
                }
                let probed = (0..<pCount).filter { !frozen.contains($0) }
                let np = numericalGradient(of: loss, at: pp.baseAddress!, indices: probed)
                let nx = numericalGradient(of: loss, at: xp.baseAddress!, indices: Array(0..<xCount))
                let gpProbed = probed.map { gp[$0] }
                // Central differences carry ~1e-10 absolute noise (eps·|L|/h): the tolerance 1e-5
                // (PyTorch's gradcheck allows rtol 1e-3) and the floor come from that; components far
                // below the gradient's scale are compared against 1e-4 of that scale.
                func floor(_ v: [Double]) -> Double { max(1e-6, 1e-4 * (v.map(abs).max() ?? 0)) }
                let ep: (error: Double, index: Int) = probed.isEmpty ? (0, -1) : worstRelativeError(gpProbed, np, floor: floor(np))
                let ex = worstRelativeError(gx, nx, floor: floor(nx))
                Self.worst[name] = max(ep.error, ex.error)
                print("gradcheck \(name): worst relative error params \(ep.error) inputs \(ex.error)")
                XCTAssertLessThan(ep.error, tolerance, "\(name): parameter \(ep.index >= 0 ? probed[ep.index] : -1) analytic \(ep.index >= 0 ? gpProbed[ep.index] : 0) numeric \(ep.index >= 0 ? np[ep.index] : 0)", file: file, line: line)
                XCTAssertLessThan(ex.error, tolerance, "\(name): input \(ex.index) analytic \(gx[ex.index]) numeric \(nx[ex.index])", file: file, line: line)
            }
        }
    }

    func testLinearAndGroupedLinear() {
        for (groups, bias) in [(1, true), (1, false), (2, true)] {
            let l = LinearLayer(inFeatures: 6, outFeatures: 4, groups: groups, weight: 0, bias: bias ? 4 * 6 / groups : nil)
            let rows = 5
            check("linear g\(groups) bias \(bias)", params: 4 * 6 / groups + (bias ? 4 : 0), inputs: rows * 6, seed: 10) { p, x in
                var out = [Double](repeating: 0, count: rows * 4)
                out.withUnsafeMutableBufferPointer { l.forward(out: $0.baseAddress!, inp: x, params: p, rows: rows, pool: .serial) }
                return out
            } backward: { p, x, r, g, dx in
                r.withUnsafeBufferPointer { l.backward(dInp: dx, dOut: $0.baseAddress!, inp: x, params: p, grads: g, rows: rows, pool: .serial) }
            }
        }
    }

    func testConvolution() {
        // The stem's 3×3 s2 p1 and 2×2 s2 p0, the head's 3×3 s1 p1 and 1×1, the 16×16 patch conv.
        for (k, s, pad, side) in [(3, 2, 1, 6), (2, 2, 0, 6), (3, 1, 1, 5), (1, 1, 0, 4), (4, 4, 0, 8)] {
            let cin = 2, cout = 3
            let l = ConvolutionLayer(inChannels: cin, outChannels: cout, kernel: k, stride: s, padding: pad, weight: 0, bias: cout * cin * k * k)
            let o = l.outputSide(side), b = 2
            var scratch = [Double](repeating: 0, count: max(l.scratchCount(side: side), 1))
            check("conv k\(k) s\(s) p\(pad)", params: cout * cin * k * k + cout, inputs: b * cin * side * side, seed: 20) { p, x in
                var out = [Double](repeating: 0, count: b * cout * o * o)
                out.withUnsafeMutableBufferPointer { ob in
                    scratch.withUnsafeMutableBufferPointer { l.forward(out: ob.baseAddress!, inp: x, params: p, batch: b, side: side, scratch: $0.baseAddress!, pool: .serial) }
                }
                return out
            } backward: { p, x, r, g, dx in
                r.withUnsafeBufferPointer { rb in
                    scratch.withUnsafeMutableBufferPointer { l.backward(dInp: dx, dOut: rb.baseAddress!, inp: x, params: p, grads: g, batch: b, side: side, scratch: $0.baseAddress!, pool: .serial) }
                }
            }
        }
    }

    func testBatchNormTrainingAndEvaluation() {
        for training in [true, false] {
            for (outer, inner) in [(3, 4), (6, 1)] {
                let c = 3, l = BatchNormLayer(channels: c, weight: 0, bias: c, runningMean: 2 * c, runningVar: 3 * c)
                var cache = BatchNormLayer.Cache<Double>()
                check("batchnorm \(training ? "train" : "eval") \(outer)x\(inner)", params: 4 * c, inputs: outer * c * inner, seed: 30,
                      frozen: 2 * c..<4 * c, prepare: { p, _ in for i in 0..<c { p[3 * c + i] = abs(p[3 * c + i]) + 0.5 } }) { p, x in
                    var out = [Double](repeating: 0, count: outer * c * inner)
                    out.withUnsafeMutableBufferPointer {
                        l.forward(out: $0.baseAddress!, inp: x, params: p, outer: outer, inner: inner, training: training,
                                  updateRunningStatistics: false, cache: &cache)
                    }
                    return out
                } backward: { p, x, r, g, dx in
                    r.withUnsafeBufferPointer { l.backward(dInp: dx, dOut: $0.baseAddress!, inp: x, params: p, grads: g, outer: outer, inner: inner, cache: cache) }
                }
            }
        }
    }

    func testBatchNormRunningStatisticsFollowPyTorch() {
        // PyTorch: running = 0.9·running + 0.1·batch, variance unbiased (n/(n−1)).
        let l = BatchNormLayer(channels: 1, weight: 0, bias: 1, runningMean: 2, runningVar: 3)
        var p: [Double] = [1, 0, 0, 1], out = [Double](repeating: 0, count: 4)
        let x: [Double] = [1, 2, 3, 6]
        var cache = BatchNormLayer.Cache<Double>()
        out.withUnsafeMutableBufferPointer { o in
            p.withUnsafeMutableBufferPointer { pp in
                l.forward(out: o.baseAddress!, inp: x, params: pp.baseAddress!, outer: 4, inner: 1, training: true,
                          updateRunningStatistics: true, cache: &cache)
            }
        }
        XCTAssertEqual(p[2], 0.1 * 3, accuracy: 1e-12)
        XCTAssertEqual(p[3], 0.9 + 0.1 * 14.0 / 3, accuracy: 1e-12)   // var [1,2,3,6] unbiased = 14/3
        XCTAssertEqual(out[0], (1 - 3) / (3.5 + 1e-5).squareRoot(), accuracy: 1e-12)
    }

    func testLayerNorm() {
        let c = 5, rows = 4, l = LayerNormLayer(channels: c, weight: 0, bias: c)
        var mean = [Double](repeating: 0, count: rows), rstd = mean
        check("layernorm", params: 2 * c, inputs: rows * c, seed: 40) { p, x in
            var out = [Double](repeating: 0, count: rows * c)
            out.withUnsafeMutableBufferPointer { o in
                mean.withUnsafeMutableBufferPointer { m in
                    rstd.withUnsafeMutableBufferPointer { l.forward(out: o.baseAddress!, mean: m.baseAddress!, rstd: $0.baseAddress!, inp: x, params: p, rows: rows) }
                }
            }
            return out
        } backward: { p, x, r, g, dx in
            l.backward(dInp: dx, dOut: r, inp: x, mean: mean, rstd: rstd, params: p, grads: g, rows: rows)
        }
    }

    func testAttentionAndGroupedLayout() {
        // Plain: [q | k | v] of C = h·d each; grouped: per head [q (k) | k (k) | v (d)].
        let cases: [(String, AttentionLayer, Int)] = [
            ("attention", AttentionLayer(heads: 2, qkDim: 3, valueDim: 3, tokens: 4, q: 0, k: 6, v: 12, ld: 18, headStride: 3), 18),
            ("grouped attention", AttentionLayer(heads: 2, qkDim: 2, valueDim: 3, tokens: 4, q: 0, k: 2, v: 4, ld: 14, headStride: 7), 14),
        ]
        for (name, l, ld) in cases {
            let b = 2
            var probs = [Double](repeating: 0, count: l.probabilityCount(batch: b)), scratch = [Double](repeating: 0, count: 16)
            check(name, params: 0, inputs: b * 4 * ld, seed: 50) { _, x in
                var out = [Double](repeating: 0, count: b * 4 * l.heads * l.valueDim)
                out.withUnsafeMutableBufferPointer { o in
                    probs.withUnsafeMutableBufferPointer { l.forward(out: o.baseAddress!, probs: $0.baseAddress!, qkv: x, batch: b, pool: .serial) }
                }
                return out
            } backward: { _, x, r, _, dx in
                scratch.withUnsafeMutableBufferPointer { s in
                    l.backward(dQKV: dx, dOut: r, qkv: x, probs: probs, batch: b, scratch: s.baseAddress!, pool: .serial)
                }
            }
        }
    }

    func testActivations() {
        for act in [ActivationLayer.relu, .hardSwish, .gelu] {
            // Inputs in [-5, 5) cover hard-swish's three pieces.
            check("activation \(act)", params: 0, inputs: 24, seed: 60, prepare: { _, x in for i in 0..<24 { x[i] *= 5 } }) { _, x in
                var out = [Double](repeating: 0, count: 24)
                out.withUnsafeMutableBufferPointer { act.forward(out: $0.baseAddress!, inp: x, count: 24) }
                return out
            } backward: { _, x, r, _, dx in
                act.backward(dInp: dx, dOut: r, inp: x, count: 24)
            }
        }
    }
}
