import ETData
/// The GOT-10k toolkit's evaluation (`got10k/experiments/got10k.py`, protocol doc §5).
///
/// Frame 0 is excluded, frames with `cover == 0` (absent) are excluded, both boxes are clipped to
/// the image, and the overall AO / SR are means over the concatenated frames of all sequences and
/// repetitions (frame-weighted).
public enum GOT10kScoring {
    /// `linspace(0, 1, 101)`: t_i = i·0.01 (bit-identical to numpy's values).
    public static let thresholds: [Double] = (0...100).map { Double($0) * 0.01 }

    /// IoUs of one repetition on one sequence, after exclusions.
    ///
    /// - Parameters:
    ///   - prediction: one row per frame, the same count as the ground truth (the toolkit asserts it).
    ///   - cover: `cover.label` values per frame (frame 0 included), or nil to keep every frame.
    ///   - bound: the image size from `meta_info.ini`; nil disables clipping.
    /// - Throws: `EvaluationError` when the row counts differ.
    public static func ious(prediction: [Box4], groundTruth: [Box4], cover: [Int]?, bound: ImageSize?,
                            sequence: String, resultPath: String = "") throws -> [Double] {
        guard prediction.count == groundTruth.count else {
            throw EvaluationError("\(resultPath.isEmpty ? "sequence \(sequence)" : resultPath): \(prediction.count) result rows but \(groundTruth.count) ground-truth rows (the GOT-10k toolkit requires equal shapes)")
        }
        if let cover, cover.count != groundTruth.count {
            throw EvaluationError("sequence \(sequence): \(cover.count) cover labels for \(groundTruth.count) frames")
        }
        var out: [Double] = []
        out.reserveCapacity(groundTruth.count)
        for i in 1..<max(groundTruth.count, 1) {
            if let cover, !(cover[i] > 0) { continue }
            out.append(BoxMetrics.got10kIoU(prediction[i], groundTruth[i], bound: bound))
        }
        return out
    }

    /// AO, SR and the 101-point success curve of a list of IoUs (percent).
    public struct Summary: Equatable, Sendable, Codable {
        public var ao: Double
        public var sr50: Double
        public var sr75: Double
        public var frames: Int
        public var successCurve: [Double]?
        /// Mean of 1/t over positive, non-NaN per-frame times (frames per second), when known.
        public var speedFPS: Double?

        enum CodingKeys: String, CodingKey { case ao, sr50, sr75, frames, success_curve, speed_fps }
        public init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            ao = try c.decode(Double.self, forKey: .ao); sr50 = try c.decode(Double.self, forKey: .sr50)
            sr75 = try c.decode(Double.self, forKey: .sr75); frames = try c.decode(Int.self, forKey: .frames)
            successCurve = try c.decodeIfPresent([Double].self, forKey: .success_curve)
            speedFPS = try c.decodeIfPresent(Double.self, forKey: .speed_fps)
        }
        public func encode(to e: Encoder) throws {
            var c = e.container(keyedBy: CodingKeys.self)
            try c.encode(ao, forKey: .ao); try c.encode(sr50, forKey: .sr50); try c.encode(sr75, forKey: .sr75)
            try c.encode(frames, forKey: .frames)
            try c.encodeIfPresent(successCurve, forKey: .success_curve); try c.encodeIfPresent(speedFPS, forKey: .speed_fps)
        }

        /// - Parameter ious: the concatenated IoUs; `withCurve` keeps the 101-point curve.
        public init(ious: [Double], times: [Double] = [], withCurve: Bool = true) {
            frames = ious.count
            let n = Double(max(ious.count, 1))
            ao = ious.isEmpty ? .nan : ious.reduce(0, +) / n * 100
            func sr(_ t: Double) -> Double { ious.isEmpty ? .nan : Double(ious.lazy.filter { $0 > t }.count) / n * 100 }
            sr50 = sr(GOT10kScoring.thresholds[50])
            sr75 = sr(GOT10kScoring.thresholds[75])
            successCurve = withCurve ? GOT10kScoring.thresholds.map(sr) : nil
            let t = times.filter { !$0.isNaN && $0 > 0 }
            speedFPS = t.isEmpty ? nil : t.reduce(0) { $0 + 1 / $1 } / Double(t.count)
        }
    }
}
