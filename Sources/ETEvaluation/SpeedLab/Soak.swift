import ETData
import ETImage
import ETTracking
import Foundation

/// A long run of one tracker with its resident memory sampled: does memory stay flat once warm?
///
/// The frames of a sequence are decoded once and played back and forth (1…n, n−1…1, …) so the
/// motion stays continuous for any number of frames. After that, `cycles` times: initialise on
/// the first frame and update on the next few (a tracker re-used for many targets).
public enum Soak {
    public struct Sample: Codable, Sendable { public var frame: Int; public var rssMB: Double }

    public struct Result: Codable, Sendable {
        public var model: String
        public var frames: Int
        /// Frames before memory is judged (the first tenth, at least 200).
        public var warmupFrames: Int
        public var samples: [Sample]
        /// Resident memory at the end of warm-up, at the end, and the highest seen.
        public var rssAfterWarmupMB: Double, rssEndMB: Double, peakRssMB: Double
        /// Growth after warm-up per 1000 frames (least-squares slope of the samples).
        public var slopeMBPer1000Frames: Double
        public var cycles: Int
        public var cycleSamples: [Sample]
        public var rssCyclesStartMB: Double, rssCyclesEndMB: Double
        public var framesPerSecond: Double
        /// Flat: after warm-up the frames grow memory by at most `allowedGrowthMB`, and so do the cycles.
        public var allowedGrowthMB: Double
        public var flat: Bool
    }

    /// Resident memory of this process in MB (/proc/self/statm on Linux, task_info on Apple).
    public static func residentMB() -> Double {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return .nan }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return .nan }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
        #elseif canImport(Darwin)
        var info = mach_task_basic_info()
        var count = mach_msg_type_number_t(MemoryLayout<mach_task_basic_info>.size / MemoryLayout<natural_t>.size)
        let kr = withUnsafeMutablePointer(to: &info) {
            $0.withMemoryRebound(to: integer_t.self, capacity: Int(count)) { task_info(mach_task_self_, task_flavor_t(MACH_TASK_BASIC_INFO), $0, &count) }
        }
        return kr == KERN_SUCCESS ? Double(info.resident_size) / 1_048_576 : .nan
        #else
        return .nan
        #endif
    }

    /// - Parameters:
    ///   - frames: the decoded sequence (at least 2 frames).
    ///   - progress: told (frames done, total) now and then.
    public static func run(model: String, tracker: any SingleObjectTracker, frames: [Image], initBox: BoundingBox,
                           totalFrames: Int, cycles: Int, sampleEvery: Int = 100, allowedGrowthMB: Double = 4,
                           progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        precondition(frames.count >= 2)
        let n = frames.count
        func frameIndex(_ k: Int) -> Int {  // ping-pong: 0 … n−1, n−2 … 1, 0 …
            let period = 2 * (n - 1), p = k % period
            return p < n ? p : period - p
        }
        var samples: [Sample] = []
        let start = Date()
        try tracker.initialize(frame: frames[0], box: initBox)
        for k in 1..<totalFrames {
            _ = try tracker.update(frame: frames[frameIndex(k)])
            if k % sampleEvery == 0 || k == totalFrames - 1 {
                samples.append(Sample(frame: k, rssMB: residentMB()))
                progress?(k, totalFrames)
            }
        }
        let fps = Double(totalFrames) / Date().timeIntervalSince(start)
        var cycleSamples: [Sample] = []
        for c in 0..<cycles {
            try tracker.initialize(frame: frames[0], box: initBox)
            for k in 1...3 { _ = try tracker.update(frame: frames[k % n]) }
            if c % 10 == 0 || c == cycles - 1 { cycleSamples.append(Sample(frame: c, rssMB: residentMB())) }
        }
        let warmup = max(200, totalFrames / 10)
        let after = samples.filter { $0.frame >= warmup }
        let base = after.first?.rssMB ?? samples.first?.rssMB ?? .nan
        let end = samples.last?.rssMB ?? .nan
        let slope: Double = {
            guard after.count >= 2 else { return 0 }
            let xs = after.map { Double($0.frame) }, ys = after.map(\.rssMB)
            let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
            let sxy = zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +), sxx = xs.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
            return sxx > 0 ? sxy / sxx * 1000 : 0
        }()
        let cStart = cycleSamples.first?.rssMB ?? .nan, cEnd = cycleSamples.last?.rssMB ?? .nan
        let peak = (samples + cycleSamples).map(\.rssMB).max() ?? .nan
        let growth = (after.map(\.rssMB).max() ?? base) - base
        let flat = growth <= allowedGrowthMB && (cycles == 0 || cEnd - cStart <= allowedGrowthMB)
        return Result(model: model, frames: totalFrames, warmupFrames: warmup, samples: samples, rssAfterWarmupMB: base, rssEndMB: end,
                      peakRssMB: peak, slopeMBPer1000Frames: slope, cycles: cycles, cycleSamples: cycleSamples,
                      rssCyclesStartMB: cStart, rssCyclesEndMB: cEnd, framesPerSecond: fps, allowedGrowthMB: allowedGrowthMB, flat: flat)
    }

    /// Resident memory against frames, one curve per run.
    public static func plot(_ results: [Result]) -> LinePlot {
        let maxFrame = Double(results.map(\.frames).max() ?? 1)
        let ys = results.flatMap { $0.samples.map(\.rssMB) }
        let lo = ((ys.min() ?? 0) / 10).rounded(.down) * 10, hi = max(((ys.max() ?? 10) / 10).rounded(.up) * 10, lo + 10)
        let step = max(((hi - lo) / 5).rounded(.up), 1)
        return LinePlot(title: "Resident memory over a long run", xLabel: "frame", yLabel: "resident memory (MB)",
                        xRange: 0...maxFrame, yRange: lo...hi,
                        xTicks: stride(from: 0, through: maxFrame, by: max((maxFrame / 5).rounded(), 1)).map { $0 },
                        yTicks: stride(from: lo, through: hi, by: step).map { $0 },
                        series: results.map { .init(label: String(format: "%@ (peak %.0f MB)", $0.model, $0.peakRssMB), xs: $0.samples.map { Double($0.frame) }, ys: $0.samples.map(\.rssMB)) })
    }
}
