import ETData
import ETNN
import ETTestSupport
@testable import ETTraining
import Foundation
import XCTest

/// The data-parallel step (TrainingStep): K replicas on K threads, each on a chunk of the batch,
/// merged in replica order with weights = chunk share.
final class TrainingStepTests: XCTestCase {
    let batch = 5   // uneven chunks for 2 and 3 replicas: 2+3, 1+2+2

    func inputs(_ cfg: ModelConfiguration) -> (z: [Float], x: [Float], t: [BoundingBox]) {
        let z = seededValues(batch * 3 * cfg.templateSize * cfg.templateSize, seed: 21).map { Float($0) }
        let x = seededValues(batch * 3 * cfg.searchSize * cfg.searchSize, seed: 22).map { Float($0) }
        var rng = SeededGenerator(seed: 23)
        // Centres well inside the map: every sample has its focal-loss positive, so the focal
        // loss's normalisation (positives over the batch) is the chunk share, as DDP assumes.
        let t = (0..<batch).map { _ in
            BoundingBox(x: 0.2 + 0.3 * rng.nextUnitDouble(), y: 0.2 + 0.3 * rng.nextUnitDouble(),
                        width: 0.1 + 0.2 * rng.nextUnitDouble(), height: 0.1 + 0.2 * rng.nextUnitDouble())
        }
        return (z, x, t)
    }

    func step(_ cfg: ModelConfiguration, threads: Int, training: Bool, parameters: [Float]) throws -> (TrainingStep, LossValue) {
        let s = try TrainingStep(cfg, threads: threads)
        s.network.load(parameters)
        s.network.training = training
        let (z, x, t) = inputs(cfg)
        return (s, s.run(template: z, search: x, targets: t, weights: LossWeights()))
    }

    /// With BN on running statistics (no batch coupling) the merged gradient of 2 and 3 replicas
    /// is the whole batch's gradient, to float rounding.
    func testReplicasEqualTheWholeBatchInEvaluationMode() throws {
        for cfg in tinyConfigurations() {
            let p = randomParameters(ParameterTable(cfg), seed: 24).map { Float($0) }
            let (one, l1) = try step(cfg, threads: 1, training: false, parameters: p)
            let g1 = Array(UnsafeBufferPointer(start: one.network.grads, count: one.network.parameterCount))
            let scale = g1.map { abs(Double($0)) }.max()!
            for k in [2, 3] {
                let (many, lk) = try step(cfg, threads: k, training: false, parameters: p)
                let gk = Array(UnsafeBufferPointer(start: many.network.grads, count: many.network.parameterCount))
                let worst = zip(g1, gk).map { abs(Double($0) - Double($1)) }.max()! / scale
                print("\(cfg.name), \(k) replicas, eval mode: worst gradient difference \(worst) of the scale, loss \(l1.total) vs \(lk.total)")
                XCTAssertLessThan(worst, 1e-5, "\(cfg.name) \(k) replicas")
                XCTAssertEqual(lk.total, l1.total, accuracy: 1e-5 * abs(l1.total), "\(cfg.name) \(k) replicas")
            }
        }
    }

    /// In training mode each chunk has its own BN statistics (DDP without SyncBatchNorm): the
    /// merged gradient and running statistics are the share-weighted sums of independent
    /// single-network runs on the chunks.
    func testTrainingModeIsTheWeightedSumOfChunkRuns() throws {
        let cfg = tinyConfigurations().first { $0.name == "tiny-fgaf-corner" }!
        let table = ParameterTable(cfg)
        let p = randomParameters(table, seed: 25).map { Float($0) }
        let (many, merged) = try step(cfg, threads: 2, training: true, parameters: p)
        let (z, x, t) = inputs(cfg)
        let tn = 3 * cfg.templateSize * cfg.templateSize, sn = 3 * cfg.searchSize * cfg.searchSize
        var grads = [Double](repeating: 0, count: table.totalCount), stats = grads, loss = 0.0
        for (lo, hi) in [(0, 2), (2, 5)] {
            let net = try TrainingNetwork<Float>(cfg)
            net.load(p)
            net.zeroGradients()
            let o = net.forward(template: Array(z[lo * tn..<hi * tn]), search: Array(x[lo * sn..<hi * sn]), batch: hi - lo)
            let (v, g) = TrackingLoss.evaluate(o, targets: Array(t[lo..<hi]), head: cfg.head, side: cfg.searchSide, weights: LossWeights())
            net.backward(g, output: o)
            let share = Double(hi - lo) / Double(batch)
            for i in 0..<table.totalCount { grads[i] += share * Double(net.grads[i]); stats[i] += share * Double(net.params[i]) }
            loss += share * v.total
        }
        let scale = grads.map(abs).max()!
        let worst = (0..<table.totalCount).map { abs(Double(many.network.grads[$0]) - grads[$0]) }.max()! / scale
        XCTAssertLessThan(worst, 1e-6)
        for s in table.specs where !s.isTrainable {
            for i in s.offset..<s.offset + s.count {
                XCTAssertEqual(Double(many.network.params[i]), stats[i], accuracy: 1e-6 * max(1, abs(stats[i])), s.name)
            }
        }
        XCTAssertEqual(merged.total, loss, accuracy: 1e-6 * abs(loss))
        // And it is not the whole batch's gradient: the per-chunk statistics matter.
        let (one, _) = try step(cfg, threads: 1, training: true, parameters: p)
        let apart = (0..<table.totalCount).map { abs(Double(one.network.grads[$0]) - grads[$0]) }.max()! / scale
        XCTAssertGreaterThan(apart, 1e-4, "chunks with their own BN statistics should differ from the whole batch")
    }
}
