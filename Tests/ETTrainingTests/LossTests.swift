import ETData
import ETNN
import ETTestSupport
import ETTraining
import Foundation
import XCTest

/// The recipe's losses (OSTrack's focal / GIoU / L1 and STARK's corner loss), written for the
/// formulas of OSTrack @ 2022 `lib/train/actors/ostrack.py` and `lib/utils/heapmap_utils.py`.
final class LossTests: XCTestCase {
    func testGaussianRadiusIsCenterNetsSmallestRoot() {
        // w = h = 4 cells, min_overlap 0.7: r1 = 7.63, r2 = 14.69, r3 = (−11.2 + √179.2)/2 = 1.0932.
        XCTAssertEqual(TrackingLoss.gaussianRadius(width: 4, height: 4), (-11.2 + 179.2.squareRoot()) / 2, accuracy: 1e-12)
        XCTAssertEqual(TrackingLoss.gaussianRadius(width: 4, height: 4), 1.0932, accuracy: 1e-4)
        // Larger boxes give larger radii; the radius is the minimum of the three.
        XCTAssertGreaterThan(TrackingLoss.gaussianRadius(width: 8, height: 8), TrackingLoss.gaussianRadius(width: 4, height: 4))
    }

    func testHeatmapPeakRadiusAndRounding() {
        // A 4×4-cell box centred at cell (6, 5) on a 16-cell map: radius 1, σ = 0.5.
        let box = BoundingBox(x: 4.0 / 16, y: 3.0 / 16, width: 4.0 / 16, height: 4.0 / 16)
        let map = TrackingLoss.heatmap(for: box, side: 16)
        XCTAssertEqual(map[5 * 16 + 6], 1)
        XCTAssertEqual(map[5 * 16 + 7], exp(-2), accuracy: 1e-15)
        XCTAssertEqual(map[6 * 16 + 7], exp(-4), accuracy: 1e-15)
        XCTAssertEqual(map[5 * 16 + 8], 0, "radius 1: nothing two cells away")
        XCTAssertEqual(map.filter { $0 > 0 }.count, 9)
        // Centre 2.5 cells rounds to 2 (torch.round is half to even), 3.5 to 4.
        let half = TrackingLoss.heatmap(for: BoundingBox(x: 2.0 / 16, y: 3.0 / 16, width: 1.0 / 16, height: 1.0 / 16), side: 16)
        XCTAssertEqual(half[4 * 16 + 2], 1)
        // A centre on the map's far edge (cell 16) leaves it empty, as draw_gaussian's slices do.
        XCTAssertTrue(TrackingLoss.heatmap(for: BoundingBox(x: 0.9, y: 0.5, width: 0.2, height: 0.1), side: 16).allSatisfy { $0 == 0 })
    }

    func testGeneralizedIoUOfKnownBoxes() {
        let p = [0.0, 0, 1, 1]
        let overlap = TrackingLoss.generalizedIoU(p, [0.5, 0, 1.5, 1])
        XCTAssertEqual(overlap.iou, 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(overlap.giou, 1.0 / 3, accuracy: 1e-15)   // the hull is the union
        let apart = TrackingLoss.generalizedIoU(p, [2, 0, 3, 1])
        XCTAssertEqual(apart.iou, 0)
        XCTAssertEqual(apart.giou, -1.0 / 3, accuracy: 1e-15)    // 0 − (3 − 2)/3
        let same = TrackingLoss.generalizedIoU(p, p)
        XCTAssertEqual(same.giou, 1, accuracy: 1e-15)
    }

    /// Random center-head outputs with a clear argmax per map (the decode point must not move
    /// under the finite-difference probes).
    func centerOutput(batch b: Int, side s: Int, seed: UInt64) -> TrainingOutput<Double> {
        var out = TrainingOutput<Double>()
        out.score = seededValues(b * s * s, seed: seed).map { 0.3 + 0.25 * $0 }
        for i in 0..<b { out.score[i * s * s + (7 * i + 5) % (s * s)] = 0.9 }
        out.size = seededValues(b * 2 * s * s, seed: seed + 1).map { 0.3 + 0.2 * $0 }
        out.offset = seededValues(b * 2 * s * s, seed: seed + 2).map { 0.5 + 0.45 * $0 }
        return out
    }

    func targets(_ b: Int, seed: UInt64) -> [BoundingBox] {
        let v = seededValues(4 * b, seed: seed)
        return (0..<b).map { i in
            BoundingBox(x: 0.3 + 0.1 * v[4 * i], y: 0.3 + 0.1 * v[4 * i + 1], width: 0.25 + 0.1 * v[4 * i + 2], height: 0.2 + 0.1 * v[4 * i + 3])
        }
    }

    func testCenterLossGradientMatchesCentralDifferences() {
        let b = 3, s = 8
        var out = centerOutput(batch: b, side: s, seed: 11)
        let t = targets(b, seed: 5)
        let (value, grad) = TrackingLoss.evaluate(out, targets: t, head: .center, side: s)
        XCTAssertGreaterThan(value.focal, 0); XCTAssertGreaterThan(value.giou, 0); XCTAssertGreaterThan(value.l1, 0)
        XCTAssertEqual(value.total, value.focal + 2 * value.giou + 5 * value.l1, accuracy: 1e-12)
        func check(_ field: WritableKeyPath<TrainingOutput<Double>, [Double]>, _ analytic: [Double], _ name: String) {
            var worst = 0.0
            for i in 0..<analytic.count {
                let saved = out[keyPath: field][i]
                out[keyPath: field][i] = saved + 1e-6
                let up = TrackingLoss.evaluate(out, targets: t, head: .center, side: s).value.total
                out[keyPath: field][i] = saved - 1e-6
                let down = TrackingLoss.evaluate(out, targets: t, head: .center, side: s).value.total
                out[keyPath: field][i] = saved
                worst = max(worst, relativeError((up - down) / 2e-6, analytic[i], floor: 1e-4))
            }
            XCTAssertLessThan(worst, 1e-6, "\(name): worst relative error \(worst)")
        }
        check(\.score, grad.score, "score")
        check(\.size, grad.size, "size")
        check(\.offset, grad.offset, "offset")
        // The box terms reach only the cell read at the argmax.
        let read = Set((0..<b).flatMap { i -> [Int] in let j = (7 * i + 5) % (s * s); return [i * 2 * s * s + j, i * 2 * s * s + s * s + j] })
        XCTAssertTrue(grad.size.indices.allSatisfy { grad.size[$0] == 0 || read.contains($0) })
        XCTAssertTrue(grad.offset.indices.allSatisfy { grad.offset[$0] == 0 || read.contains($0) })
    }

    func testCornerLossGradientMatchesCentralDifferences() {
        let b = 4
        var out = TrainingOutput<Double>()
        out.box = seededValues(4 * b, seed: 3).enumerated().map { $0.offset % 4 < 2 ? 0.5 + 0.2 * $0.element : 0.3 + 0.1 * $0.element }
        let t = targets(b, seed: 9)
        let (value, grad) = TrackingLoss.evaluate(out, targets: t, head: .corner, side: 8)
        XCTAssertEqual(value.focal, 0)
        XCTAssertEqual(value.total, 2 * value.giou + 5 * value.l1, accuracy: 1e-12)
        for i in 0..<4 * b {
            let saved = out.box[i]
            out.box[i] = saved + 1e-6
            let up = TrackingLoss.evaluate(out, targets: t, head: .corner, side: 8).value.total
            out.box[i] = saved - 1e-6
            let down = TrackingLoss.evaluate(out, targets: t, head: .corner, side: 8).value.total
            out.box[i] = saved
            XCTAssertLessThan(relativeError((up - down) / 2e-6, grad.box[i], floor: 1e-4), 1e-6, "box[\(i)]")
        }
    }

    func testPerfectPredictionHasNoBoxLoss() {
        // Decoded box == GT: GIoU term 0, L1 0; score maps equal to the heat map minimise focal.
        let s = 16
        let gt = BoundingBox(x: 0.25, y: 0.3125, width: 0.25, height: 0.25)   // centre (6, 7) cells exactly
        var out = TrainingOutput<Double>()
        out.score = TrackingLoss.heatmap(for: gt, side: s).map { min(max($0, 1e-4), 1 - 1e-4) }
        out.size = [Double](repeating: 0, count: 2 * s * s)
        out.offset = [Double](repeating: 0, count: 2 * s * s)
        let peak = 7 * s + 6
        out.size[peak] = 0.25; out.size[s * s + peak] = 0.25
        let (v, _) = TrackingLoss.evaluate(out, targets: [gt], head: .center, side: s)
        XCTAssertEqual(v.giou, 0, accuracy: 1e-12)
        XCTAssertEqual(v.l1, 0, accuracy: 1e-12)
        XCTAssertEqual(v.iou, 1, accuracy: 1e-12)
        XCTAssertLessThan(v.focal, 0.01)
    }
}

final class OptimizerTests: XCTestCase {
    func testAdamWMatchesTheFormulaAndGroups() throws {
        let config = tinyConfigurations()[2]
        let table = ParameterTable(config)
        let opt = AdamW(table: table, groups: ParameterGroups(backboneMultiplier: 0.1), weightDecay: 0.05)
        let n = table.totalCount
        var p = seededValues(n, seed: 1).map(Float.init)
        let start = p
        var mRef = [Double](repeating: 0, count: n), vRef = [Double](repeating: 0, count: n)
        var ref = start.map(Double.init)
        let lr = 1e-2
        for t in 1...3 {
            let g = seededValues(n, seed: UInt64(10 + t)).map(Float.init)
            p.withUnsafeMutableBufferPointer { pp in g.withUnsafeBufferPointer { opt.update(params: pp.baseAddress!, grads: $0.baseAddress!, lr: lr) } }
            for s in table.specs where s.isTrainable {
                let rate = lr * (s.name.hasPrefix("box_head.") ? 1 : 0.1)
                for i in s.offset..<s.offset + s.count {
                    if s.role == .weight { ref[i] *= 1 - rate * 0.05 }
                    mRef[i] = 0.9 * mRef[i] + 0.1 * Double(g[i])
                    vRef[i] = 0.999 * vRef[i] + 0.001 * Double(g[i]) * Double(g[i])
                    let c1 = 1 - pow(0.9, Double(t)), c2 = 1 - pow(0.999, Double(t))
                    ref[i] -= rate / c1 * mRef[i] / (vRef[i].squareRoot() / c2.squareRoot() + 1e-8)
                }
            }
        }
        var worst = 0.0
        for i in 0..<n { worst = max(worst, relativeError(Double(p[i]), ref[i], floor: 1e-3)) }
        XCTAssertLessThan(worst, 1e-5)
        // Running statistics are buffers: never stepped.
        for s in table.specs where !s.isTrainable {
            for i in s.offset..<s.offset + s.count { XCTAssertEqual(p[i], start[i]) }
        }
        XCTAssertEqual(opt.step, 3)
    }

    func testScheduleAndClipping() {
        let s = StepSchedule(baseRate: 1, warmupSteps: 4, milestones: [10, 20])
        XCTAssertEqual(s.rate(at: 0), 0.25)
        XCTAssertEqual(s.rate(at: 3), 1)
        XCTAssertEqual(s.rate(at: 9), 1)
        XCTAssertEqual(s.rate(at: 10), 0.1, accuracy: 1e-15)
        XCTAssertEqual(s.rate(at: 25), 0.01, accuracy: 1e-15)
        var g: [Float] = [3, 4]
        let norm = g.withUnsafeMutableBufferPointer { GradientClipping.clip($0.baseAddress!, count: 2, maxNorm: 0.1) }
        XCTAssertEqual(norm, 5, accuracy: 1e-12)
        XCTAssertEqual(Double(g[0]), 3 * 0.1 / (5 + 1e-6), accuracy: 1e-7)
        var small: [Float] = [0.01, 0]
        small.withUnsafeMutableBufferPointer { _ = GradientClipping.clip($0.baseAddress!, count: 2, maxNorm: 0.1) }
        XCTAssertEqual(small[0], 0.01, "below the limit: untouched")
    }
}
