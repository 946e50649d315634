import ETData
import ETCore
import ETImage
import ETNN
import ETONNX
import ETTracking
import Foundation

/// Timings of a one-stream (TrackerVit-interface) network and tracker step in this process, for
/// `etrack bench onestream`. Every figure is a list of per-run seconds so the caller can take
/// medians across interleaved rounds.
public enum OneStreamSpeed {
    /// Per-run seconds of one network call on fixed random inputs, template and search both
    /// computed ("network", what ONNX Runtime does per call), and with the template part cached
    /// as the tracker runs it ("network_cached").
    public static func network(model: OneStreamModel, runs: Int, warmup: Int = 10, pool: ThreadPool = .serial) throws -> [String: [Double]] {
        let shapes = ["template": [1, 3, model.templateSize, model.templateSize], "search": [1, 3, model.searchSize, model.searchSize]]
        let full = try ExecutionPlan(model: model.onnx, inputShapes: shapes, pool: pool)
        let cached = try ExecutionPlan(model: model.onnx, inputShapes: shapes, staticInputs: ["template"], pool: pool)
        for plan in [full, cached] { fill(plan) }
        return ["network": time(runs: runs, warmup: warmup) { full.run() },
                "network_cached": time(runs: runs, warmup: warmup) { cached.run() }]
    }

    /// Per-frame seconds of `update` (crop + network + decode) over preloaded frames.
    ///
    /// Random-weight models drift, and OpenCV's TrackerVit fails once its ROI leaves the image;
    /// so both sides restart from the ground truth every `reinitEvery` frames and after an error
    /// (restarts are not timed), which keeps the crops comparable.
    public static func updates(tracker: any SingleObjectTracker, frames: [Image], boxes: [BoundingBox?], reinitEvery: Int) throws -> [Double] {
        var times: [Double] = []
        var needInit = true
        for (i, frame) in frames.enumerated() {
            if needInit || (reinitEvery > 0 && i % reinitEvery == 0) {
                guard let b = boxes[i] else { continue }
                try tracker.initialize(frame: frame, box: b)
                needInit = false
                continue
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            do {
                _ = try tracker.update(frame: frame)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
            } catch {
                needInit = true
            }
        }
        return times
    }

    /// Mean microseconds per run of every step of the full network (node, op, MACs).
    public static func profile(model: OneStreamModel, runs: Int) throws -> [(node: String, op: String, macs: Int, microseconds: Double)] {
        let plan = try ExecutionPlan(model: model.onnx, inputShapes: ["template": [1, 3, model.templateSize, model.templateSize],
                                                                      "search": [1, 3, model.searchSize, model.searchSize]])
        fill(plan)
        for _ in 0..<5 { plan.run() }
        plan.profiling = true
        for _ in 0..<runs { plan.run() }
        return plan.profile(runs: runs)
    }

    /// Normal-ish inputs (what normalised crops look like), the same on every call.
    private static func fill(_ plan: ExecutionPlan) {
        var rng = SeededGenerator(seed: 7)
        for name in ["template", "search"] {
            let b = plan.inputBuffer(name)
            for i in 0..<b.count { b[i] = Float(Int(rng.next() % 2001) - 1000) / 500 }
        }
    }

    private static func time(runs: Int, warmup: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return (0..<runs).map { _ in
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        }
    }
}
