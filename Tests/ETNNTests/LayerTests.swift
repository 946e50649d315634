import ETCore
import Foundation
import XCTest
import ETNN

/// Each layer against the plain reference in `ReferenceModel` at small awkward sizes.
final class LayerTests: XCTestCase {
    func testLayerNormWithAndWithoutCaches() {
        for (n, c) in [(1, 1), (7, 33), (5, 48), (13, 17)] {
            var r = TestRandom(seed: UInt64(n * 100 + c))
            let x = r.array(n * c, 3).map { $0 + 5 }, g = r.array(c, 1), b = r.array(c, 1)
            let ref = ReferenceModel.layerNorm(x, rows: n, c: c, weight: g, bias: b)
            var y = [Float](repeating: 0, count: n * c), y2 = y
            var mean = [Float](repeating: 0, count: n), rstd = mean
            LayerNorm.forward(out: &y, mean: &mean, rstd: &rstd, inp: x, weight: g, bias: b, rows: n, channels: c)
            LayerNorm.forward(out: &y2, mean: nil, rstd: nil, inp: x, weight: g, bias: b, rows: n, channels: c)
            XCTAssertLessThan(relativeError(y, ref), 1e-5, "cached LN n=\(n) c=\(c)")
            XCTAssertLessThan(relativeError(y2, ref), 1e-5, "kernel LN n=\(n) c=\(c)")
            XCTAssertEqual(mean[0], x[0..<c].reduce(0, +) / Float(c), accuracy: 1e-4)
        }
    }

    func testLinearWithStridesAndResidual() {
        let (n, i, o) = (5, 17, 7)
        var r = TestRandom(seed: 9)
        let w = r.array(o * i, 1), b = r.array(o, 1)
        let x = r.array(n * (i + 3), 1)   // rows of i + 3, use the first i
        let lin = Linear(inFeatures: i, outFeatures: o, weight: w, bias: b)
        var y = r.array(n * (o + 2), 1)
        let y0 = y
        lin.forward(out: &y, ldo: o + 2, inp: x, ldi: i + 3, rows: n, accumulate: true)
        let packedX = (0..<n).flatMap { Array(x[$0 * (i + 3)..<$0 * (i + 3) + i]) }
        let ref = ReferenceModel.linear(packedX, rows: n, weight: w, bias: b, out: o)
        for rr in 0..<n {
            for c in 0..<o { XCTAssertEqual(y[rr * (o + 2) + c], y0[rr * (o + 2) + c] + ref[rr * o + c], accuracy: 1e-5) }
            XCTAssertEqual(y[rr * (o + 2) + o], y0[rr * (o + 2) + o], "padding column untouched")
        }
    }

    func testScaledDotProductAttentionWithCachedProbabilities() {
        let (h, n, dk, dv) = (3, 13, 5, 3)
        let ld = h * (dk * 2 + dv)
        var r = TestRandom(seed: 4)
        let qkv = r.array(n * ld, 2)
        var out = [Float](repeating: 0, count: n * h * dv), probs = [Float](repeating: 0, count: h * n * n)
        var scratch = [Float](repeating: 0, count: n * n)
        qkv.withUnsafeBufferPointer { p in
            let base = p.baseAddress!, stride = 2 * dk + dv
            ScaledDotProductAttention.forward(out: &out, ldo: h * dv, probs: &probs, scratch: &scratch, q: base, k: base + dk,
                                              v: base + 2 * dk, ld: ld, headStride: stride, heads: h, qkDim: dk, valueDim: dv,
                                              tokens: n, scale: 0.37)
        }
        for head in 0..<h {
            func cols(_ a: Int, _ cnt: Int) -> [Float] {
                (0..<n).flatMap { rr in (0..<cnt).map { qkv[rr * ld + head * (2 * dk + dv) + a + $0] } }
            }
            let ref = ReferenceModel.attention(q: cols(0, dk), k: cols(dk, dk), v: cols(2 * dk, dv), n: n, dk: dk, dv: dv, scale: 0.37)
            let got = (0..<n).flatMap { rr in (0..<dv).map { out[rr * h * dv + head * dv + $0] } }
            XCTAssertLessThan(relativeError(got, ref), 1e-5, "head \(head)")
            for rr in 0..<n { XCTAssertEqual(probs[(head * n + rr) * n..<(head * n + rr + 1) * n].reduce(0, +), 1, accuracy: 1e-5) }
        }
    }

    func testBatchNormFoldingEqualsConvThenBN() {
        let (cin, cout, s) = (5, 7, 9)
        var r = TestRandom(seed: 21)
        let x = r.array(cin * s * s, 1), w = r.array(cout * cin * 9, 0.5), b = r.array(cout, 0.2)
        let g = r.array(cout, 1).map { $0 + 1.2 }, beta = r.array(cout, 0.3), mu = r.array(cout, 0.3)
        let v = (0..<cout).map { _ in 0.3 + r.next() }
        let (ss, sh) = BatchNorm.scaleShift(weight: g, bias: beta, runningMean: mu, runningVar: v)
        var ref = ReferenceModel.conv2d(x, c: cin, h: s, w: s, weight: w, bias: b, out: cout, k: 3, stride: 2, pad: 1)
        BatchNorm.forwardChannelMajor(&ref.y, scale: ss, shift: sh, spatial: ref.h * ref.w)
        let f = BatchNorm.fold(weight: w, bias: b, bnWeight: g, bnBias: beta, runningMean: mu, runningVar: v)
        let conv = Conv2D(Conv2DParameters(inChannels: cin, outChannels: cout, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                                           padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), weight: f.weight, bias: f.bias)
        var y = [Float](repeating: 0, count: ref.y.count)
        conv.forward(input: x, inH: s, inW: s, output: &y, scratch: nil)
        XCTAssertLessThan(relativeError(y, ref.y), 1e-5)
        // No conv bias (stem, FFN): b' = β − μ·s.
        let f0 = BatchNorm.fold(weight: w, bias: nil, bnWeight: g, bnBias: beta, runningMean: mu, runningVar: v)
        XCTAssertEqual(f0.bias[2], beta[2] - mu[2] * ss[2], accuracy: 1e-6)
    }

    func testSinusoidAndBicubicResample() {
        let pe = PositionEmbedding.sinusoid(positions: 5, channels: 6)
        XCTAssertEqual(pe[3 * 6 + 4], Float(sin(3 / pow(10000.0, 4.0 / 6))), accuracy: 1e-6)
        XCTAssertEqual(pe[3 * 6 + 5], Float(cos(3 / pow(10000.0, 4.0 / 6))), accuracy: 1e-6)
        // Identity when the grid does not change.
        var r = TestRandom(seed: 2)
        let t = r.array(4 * 4 * 3, 1)
        XCTAssertEqual(PositionEmbedding.resample(t, channels: 3, from: 4, 4, to: 4, 4), t)
        // A ramp along x (value = column) sampled 4 → 7 with align_corners: cubic convolution with
        // A = −0.75 and clamped borders gives 0.40625 at x = 0.5 and reproduces the ramp inside.
        var ramp = [Float](repeating: 0, count: 16)
        for y in 0..<4 { for x in 0..<4 { ramp[y * 4 + x] = Float(x) } }
        let up = PositionEmbedding.resample(ramp, channels: 1, from: 4, 4, to: 7, 7)
        XCTAssertEqual(Array(up[0..<7]), [0, 0.40625, 1, 1.5, 2, 2.59375, 3])
        // 16×16 → 8×8 (the MTR template half) keeps the corners.
        let big = r.array(16 * 16 * 2, 1)
        let small = PositionEmbedding.resample(big, channels: 2, from: 16, 16, to: 8, 8)
        XCTAssertEqual(small[0], big[0], accuracy: 1e-6)
        XCTAssertEqual(small[63 * 2 + 1], big[255 * 2 + 1], accuracy: 1e-6)
    }

    func testCornerSoftArgmaxOfAPeak() {
        var p = [Float](repeating: 0, count: 16 * 16)
        p[3 * 16 + 5] = 1
        let (x, y) = CornerHead.softArgmax(p, side: 16, stride: 16, shift: 15)
        XCTAssertEqual(x, 5 * 16 + 15)
        XCTAssertEqual(y, 3 * 16 + 15)
    }
}
