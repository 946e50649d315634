import ETCore
import ETData
import ETNN
import ETONNX
import Foundation

/// `etrack bench train`: the time of one full training step (forward, loss, backward, clip,
/// AdamW) at batch B on seeded random crops and targets, the same step
/// `scripts/bench/train_step_torch.py` times in PyTorch.
public enum TrainingBenchmark {
    public struct Result: Codable, Sendable {
        public var model: String
        public var threads: Int
        public var batch: Int
        public var step_s: Double
        public var samples_per_s: Double
        public var peak_rss_mb: Double
        /// Median seconds per phase: forward+loss+backward (data-parallel over the threads), optimizer (clip + AdamW).
        public var phases: [String: Double]
        /// With `profile` (one thread): mean seconds per step of each layer group, forward and backward.
        public var layers: [String: Double]?
    }

    /// Seeded inputs of the step: crops uniform in ±2 (normalised-pixel range), targets inside the crop.
    public static func inputs(_ c: ModelConfiguration, batch b: Int, seed: UInt64) -> (template: [Float], search: [Float], targets: [BoundingBox]) {
        var g = SeededGenerator(seed: seed)
        func u() -> Float { Float(g.nextUnitDouble() * 4 - 2) }
        let t = (0..<b * 3 * c.templateSize * c.templateSize).map { _ in u() }
        let s = (0..<b * 3 * c.searchSize * c.searchSize).map { _ in u() }
        let boxes = (0..<b).map { _ in
            BoundingBox(x: 0.3 + 0.1 * g.nextUnitDouble(), y: 0.3 + 0.1 * g.nextUnitDouble(),
                        width: 0.2 + 0.1 * g.nextUnitDouble(), height: 0.2 + 0.1 * g.nextUnitDouble())
        }
        return (t, s, boxes)
    }

    /// Times `steps` steps after one warm-up step.
    public static func run(_ c: ModelConfiguration, batch b: Int, threads: Int, steps: Int, profile: Bool = false,
                           progress: ((Int) -> Void)? = nil) throws -> Result {
        let step = try TrainingStep(c, threads: threads)
        let net = step.network
        net.load(try RandomWeights.model(c, seed: 0).parameters)
        let opt = AdamW(table: net.table, groups: ParameterGroups(), weightDecay: 1e-4)
        let (t, s, targets) = inputs(c, batch: b, seed: 1)
        var totals: [Double] = [], phases: [String: [Double]] = [:]
        for i in 0..<steps + 1 {
            if i == 1 && profile && threads == 1 { net.profile = [:] }
            let t0 = Date()
            _ = step.run(template: t, search: s, targets: targets, weights: LossWeights())
            let t3 = Date()
            GradientClipping.clip(net.grads, count: net.parameterCount, maxNorm: 0.1)
            opt.update(params: net.params, grads: UnsafePointer(net.grads), lr: 1e-4)
            let t4 = Date()
            guard i > 0 else { continue }
            totals.append(t4.timeIntervalSince(t0))
            phases["forward+loss+backward", default: []].append(t3.timeIntervalSince(t0))
            phases["optimizer", default: []].append(t4.timeIntervalSince(t3))
            progress?(i)
        }
        let med = median(totals)
        return Result(model: c.name, threads: threads, batch: b, step_s: med, samples_per_s: Double(b) / med,
                      peak_rss_mb: peakResidentMegabytes(), phases: phases.mapValues(median),
                      layers: net.profile?.mapValues { $0 / Double(steps) })
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The process's peak resident set (getrusage: kilobytes on Linux, bytes on Darwin).
    public static func peakResidentMegabytes() -> Double {
        var u = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &u)
        return Double(u.ru_maxrss) / (1024 * 1024)
        #endif
    }
}
