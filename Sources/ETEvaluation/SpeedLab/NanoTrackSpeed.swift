import ETData
import ETCore
import ETImage
import ETNN
import ETONNX
import ETTracking
import Foundation

/// Timings of NanoTrack's networks and tracker step in this process, for `etrack bench`.
///
/// Inputs are deterministic uniform 0…255 values (as the reference measurements), networks run
/// through the same plans the tracker uses, and every figure is a list of per-run seconds so the
/// caller can take medians across interleaved rounds.
public enum NanoTrackSpeed {
    /// Per-run seconds for "backbone_127", "backbone_255", "head" and "search_step" (backbone 255 + head).
    public static func networks(model: NanoTrackModel, runs: Int, warmup: Int = 20, pool: ThreadPool = .serial) throws -> [String: [Double]] {
        let input = model.backbone.inputNames[0], output = model.backbone.outputNames[0]
        let b127 = try ExecutionPlan(model: model.backbone, inputShapes: [input: [1, 3, 127, 127]], pool: pool)
        let b255 = try ExecutionPlan(model: model.backbone, inputShapes: [input: [1, 3, 255, 255]], pool: pool)
        let head = try ExecutionPlan(model: model.head, inputShapes: ["input1": b127.outputShapes[output]!, "input2": b255.outputShapes[output]!], pool: pool)
        var rng = SeededGenerator(seed: 7)
        for plan in [b127, b255] {
            let b = plan.inputBuffer(input)
            for i in 0..<b.count { b[i] = Float(rng.next() % 256) }
        }
        b127.run(); b255.run()
        head.inputBuffer("input1").baseAddress!.update(from: b127.outputBuffer(output).baseAddress!, count: b127.outputBuffer(output).count)
        head.inputBuffer("input2").baseAddress!.update(from: b255.outputBuffer(output).baseAddress!, count: b255.outputBuffer(output).count)
        func time(_ body: () -> Void) -> [Double] {
            for _ in 0..<warmup { body() }
            return (0..<runs).map { _ in
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            }
        }
        return [
            "backbone_127": time { b127.run() },
            "backbone_255": time { b255.run() },
            "head": time { head.run() },
            "search_step": time { b255.run(); head.run() },
        ]
    }

    /// Per-frame seconds of `update` over preloaded frames (decoding excluded), after `initialize` on the first.
    public static func updates(tracker: any SingleObjectTracker, frames: [Image], initBox: BoundingBox) throws -> [Double] {
        try tracker.initialize(frame: frames[0], box: initBox)
        return try frames.dropFirst().map { f in
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try tracker.update(frame: f)
            return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        }
    }

    /// Per-step mean microseconds of each network, for "where does the time go".
    public static func profile(model: NanoTrackModel, runs: Int) throws -> [(network: String, node: String, op: String, macs: Int, microseconds: Double)] {
        let input = model.backbone.inputNames[0], output = model.backbone.outputNames[0]
        let b255 = try ExecutionPlan(model: model.backbone, inputShapes: [input: [1, 3, 255, 255]])
        let b127 = try ExecutionPlan(model: model.backbone, inputShapes: [input: [1, 3, 127, 127]])
        let head = try ExecutionPlan(model: model.head, inputShapes: ["input1": b127.outputShapes[output]!, "input2": b255.outputShapes[output]!])
        var rows: [(String, String, String, Int, Double)] = []
        for (name, plan) in [("backbone_255", b255), ("head", head)] {
            for _ in 0..<10 { plan.run() }
            plan.profiling = true
            for _ in 0..<runs { plan.run() }
            rows += plan.profile(runs: runs).map { (name, $0.node, $0.op, $0.macs, $0.microseconds) }
        }
        return rows
    }

    /// Median of samples (0 for none).
    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
