import XCTest
import ETCore

final class RowKernelTests: XCTestCase {
    static let activations: [Activation] = [.identity, .relu, .clip(0, 6), .clip(-0.25, 0.5), .hardSwish,
                                            .hardSigmoid(alpha: 1.0 / 6, beta: 0.5), .sigmoid, .gelu]

    func testActivationsMatchScalarReference() { Self.activationsMatchScalarReference() }
    static func activationsMatchScalarReference() {
        for act in Self.activations { for n in [1, 3, 7, 8, 17, 33, 100] {
            var rng = SeededRandom(UInt64(n))
            var x = rng.floats(n, -9, 9)
            x[0] = n > 1 ? 0 : x[0]
            let ref = x.map { act.apply($0) }
            Kernels.activate(&x, count: n, act)
            assertClose(x, ref, tol: act == .sigmoid ? 1e-6 : 3e-7, "activate \(act) n\(n)")
        } }
    }

    func testSigmoidRelativeErrorOverWideRange() { Self.sigmoidRelativeErrorOverWideRange() }
    static func sigmoidRelativeErrorOverWideRange() {
        // Vector exp: < 1e-6 relative against expf-based sigmoid where the result is normal.
        let xs = stride(from: Float(-80), through: 80, by: 0.0137).map { $0 }
        var y = xs
        Kernels.activate(&y, count: y.count, .sigmoid)
        var worst: Float = 0, at: Float = 0
        for (i, x) in xs.enumerated() {
            let r = Activation.sigmoid.apply(x)
            let e = abs(y[i] - r) / r
            if e > worst { worst = e; at = x }
        }
        XCTAssertLessThan(worst, 1e-6, "sigmoid max relative error \(worst) at x = \(at)")
    }

    func testBiasActivate() { Self.biasActivate() }
    static func biasActivate() {
        var rng = SeededRandom(3)
        for act in Self.activations { for n in [1, 9, 33] {
            var x = rng.floats(n, -4, 4)
            let ref = x.map { act.apply($0 + 0.75) }
            Kernels.biasActivate(&x, count: n, bias: 0.75, act)
            assertClose(x, ref, tol: 1e-6, "biasActivate \(act) n\(n)")
        } }
    }

    func testSoftmax() { Self.softmax() }
    static func softmax() {
        for (rows, cols) in [(1, 1), (3, 7), (2, 8), (5, 17), (4, 33), (2, 320)] {
            var rng = SeededRandom(UInt64(rows * 100 + cols))
            var x = rng.floats(rows * cols, -20, 20)
            var ref = x
            ReferenceKernels.softmax(rows: rows, cols: cols, &ref)
            Kernels.softmax(rows: rows, cols: cols, &x)
            assertClose(x, ref, tol: 2e-6, "softmax \(rows)×\(cols)")
        }
    }

    func testLayerNorm() { Self.layerNorm() }
    static func layerNorm() {
        for (rows, cols) in [(1, 1), (3, 7), (2, 16), (5, 17), (4, 33), (2, 768)] {
            for affine in [false, true] {
                var rng = SeededRandom(UInt64(rows * 100 + cols))
                let x = rng.floats(rows * cols, -3, 5)
                let gamma = rng.floats(cols), beta = rng.floats(cols)
                var y = [Float](repeating: 0, count: rows * cols), ref = y
                ReferenceKernels.layerNorm(rows: rows, cols: cols, x: x, gamma: affine ? gamma : nil,
                                           beta: affine ? beta : nil, epsilon: 1e-5, y: &ref)
                Kernels.layerNorm(rows: rows, cols: cols, x: x, gamma: affine ? gamma : nil,
                                  beta: affine ? beta : nil, epsilon: 1e-5, y: &y)
                assertClose(y, ref, tol: 1e-5, "layerNorm \(rows)×\(cols) affine \(affine)")
            }
        }
    }

    func testGlobalAveragePool() { Self.globalAveragePool() }
    static func globalAveragePool() {
        for (c, s) in [(1, 1), (3, 7), (5, 17), (4, 33), (16, 64 * 64)] {
            var rng = SeededRandom(UInt64(c * 1000 + s))
            let x = rng.floats(c * s, 0, 2)
            var y = [Float](repeating: 0, count: c), ref = y
            ReferenceKernels.globalAveragePool(channels: c, spatial: s, x: x, y: &ref)
            Kernels.globalAveragePool(channels: c, spatial: s, x: x, y: &y)
            assertClose(y, ref, tol: 2e-6, "globalAveragePool c\(c) spatial\(s)")
        }
    }

    func testBinaryBroadcast() { Self.binaryBroadcast() }
    static func binaryBroadcast() {
        let pairs: [([Int], [Int])] = [([3, 7], [3, 7]), ([2, 3, 4, 5], [3, 1, 1]), ([16, 8, 8], [16, 1, 1]),
                                       ([1], [5, 3]), ([4, 1, 6], [1, 5, 1]), ([], [3]), ([2, 1], [7]),
                                       ([1, 17], [33, 1]), ([2, 3, 1, 9], [9])]
        for (sa, sb) in pairs { for op in BinaryOp.allCases {
            var rng = SeededRandom(UInt64(sa.count * 10 + sb.count))
            let a = rng.floats(Swift.max(1, sa.reduce(1, *)), -2, 2), b = rng.floats(Swift.max(1, sb.reduce(1, *)), 0.5, 2)
            guard let shape = Kernels.broadcastShape(sa, sb) else { XCTFail("\(sa) \(sb) should broadcast"); continue }
            let n = shape.reduce(1, *)
            let act: Activation = op == .add ? .relu : .identity
            var y = [Float](repeating: .nan, count: n), ref = y
            ReferenceKernels.binary(op, a: a, aShape: sa, b: b, bShape: sb, y: &ref, activation: act)
            Kernels.binary(op, a: a, aShape: sa, b: b, bShape: sb, y: &y, activation: act)
            assertClose(y, ref, tol: 1e-7, "binary \(op) \(sa) with \(sb) \(act)")
        } }
        XCTAssertNil(Kernels.broadcastShape([3, 4], [5, 4]))
        XCTAssertEqual(Kernels.broadcastShape([8, 1, 6, 1], [7, 1, 5]), [8, 7, 6, 5])
    }
}
