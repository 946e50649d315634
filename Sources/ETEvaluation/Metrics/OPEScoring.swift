/// One-pass-evaluation scoring of one result file against one sequence, reproducing pytracking's
/// `calc_seq_err_robust` and `extract_results` (protocol doc §2 and §3) rule by rule.
public enum OPEScoring {
    /// Success thresholds `arange(0, 1.05, 0.05)`: 21 values t_i = i·0.05 in float64, exactly as
    /// numpy/torch produce them (t_3 = 0.15000000000000002, which matters for ties).
    public static let overlapThresholds: [Double] = (0...20).map { Double($0) * 0.05 }
    /// Precision thresholds 0 … 50 px.
    public static let centerThresholds: [Double] = (0...50).map { Double($0) }
    /// Normalised precision thresholds `arange(0, 51) / 100`.
    public static let normalizedThresholds: [Double] = (0...50).map { Double($0) / 100.0 }

    /// Per-frame errors after every rule has been applied.
    public struct FrameErrors: Equatable, Sendable {
        /// IoU per frame; −1 on invalid frames.
        public var overlap: [Double]
        /// Centre error in pixels; +Inf (miss) or −1 (hit, UAV123) on invalid frames.
        public var center: [Double]
        /// Normalised centre error; −1 (hit) on invalid frames, +Inf on LaSOT invisible frames.
        public var normalizedCenter: [Double]
        /// Whether the ground truth of the frame is valid (and the target visible).
        public var valid: [Bool]
    }

    /// Applies the sequence-level rules in the reference order.
    ///
    /// 1. NaN or negative w/h in the prediction → error (the evaluation stops).
    /// 2. NaN in the ground truth → error unless `rules.allowsNaNGroundTruth`.
    /// 3. Zero-size predictions at frame i ≥ 1 (GT row not NaN) take row i−1, in order.
    /// 4. Longer results are truncated; shorter ones raise (LaSOT) or are padded with zero rows.
    /// 5. `pred[0] = gt[0]`.
    /// 6. valid = (variant test) & visible.
    /// 7. Invalid frames: IoU −1, normalised error −1, centre error +Inf (−1 for UAV123);
    ///    LaSOT invisible frames: centre and normalised error +Inf.
    ///
    /// - Parameters:
    ///   - prediction: the result rows as read (any length).
    ///   - groundTruth: one row per frame (NaN rows allowed where the rules allow them).
    ///   - visible: per-frame visibility, or nil when the dataset has none.
    ///   - sequence: the sequence name for error messages; `resultPath` names the file.
    /// - Throws: `EvaluationError` naming the sequence, the result file and the frame (line).
    public static func frameErrors(prediction: [Box4], groundTruth gt: [Box4], visible: [Bool]?,
                                   rules: OPERules, variant: OPEVariant,
                                   sequence: String, resultPath: String = "") throws -> FrameErrors {
        let where_ = resultPath.isEmpty ? "sequence \(sequence)" : "\(resultPath) (sequence \(sequence))"
        let n = gt.count
        guard n > 0 else { throw EvaluationError("sequence \(sequence): empty ground truth") }
        if let visible, visible.count != n {
            throw EvaluationError("sequence \(sequence): \(visible.count) visibility flags for \(n) ground-truth rows")
        }
        // 1. Invalid predictions abort.
        for (i, p) in prediction.enumerated() where p.hasNaN || p.w < 0 || p.h < 0 {
            throw EvaluationError("\(where_): invalid result at frame \(i) (line \(i + 1)): \(p.x),\(p.y),\(p.w),\(p.h) — a tracker must write a finite box with w, h >= 0 on every frame")
        }
        // 2. NaN ground truth.
        if !rules.allowsNaNGroundTruth, let i = gt.firstIndex(where: { $0.hasNaN }) {
            throw EvaluationError("sequence \(sequence): NaN in the ground truth at frame \(i) (line \(i + 1)); only UAV123 (and the folder layout) may mark absent frames with NaN")
        }
        // 3. Carry zero-size predictions forward.
        var pred = prediction
        if pred.count > 1 {
            for i in 1..<pred.count where (pred[i].w == 0 || pred[i].h == 0) && !(i < n && gt[i].hasNaN) {
                pred[i] = pred[i - 1]
            }
        }
        // 4. Length mismatch.
        if pred.count > n { pred.removeLast(pred.count - n) }
        if pred.count < n {
            if rules.shorterResultRaises {
                throw EvaluationError("\(where_): \(pred.count) result rows but \(n) ground-truth frames (a shorter result is an error on LaSOT)")
            }
            pred += [Box4](repeating: .zero, count: n - pred.count)
        }
        // 5. First frame.
        pred[0] = gt[0]
        // 6-7.
        var e = FrameErrors(overlap: [], center: [], normalizedCenter: [], valid: [])
        e.overlap.reserveCapacity(n); e.center.reserveCapacity(n); e.normalizedCenter.reserveCapacity(n); e.valid.reserveCapacity(n)
        for i in 0..<n {
            let g = gt[i], p = pred[i]
            var valid: Bool
            switch variant {
            case .pytracking: valid = g.x > 0 && g.y > 0 && g.w > 0 && g.h > 0
            case .ostrack: valid = g.w > 0 && g.h > 0
            }
            let vis = visible?[i] ?? true
            valid = valid && vis
            var iou = BoxMetrics.pixelIoU(p, g)
            var ce = BoxMetrics.centerError(p, g)
            var cn = BoxMetrics.normalizedCenterError(p, g)
            if !valid {
                ce = rules.invalidCentreErrorIsHit ? -1 : .infinity
                cn = -1
                iou = -1
            }
            if rules.invisibleIsCentreMiss && !vis {
                cn = .infinity
                ce = .infinity
            }
            if iou.isNaN {
                throw EvaluationError("\(where_): NaN overlap at frame \(i) (line \(i + 1)) (\"Nans in calculated overlap\")")
            }
            e.overlap.append(iou); e.center.append(ce); e.normalizedCenter.append(cn); e.valid.append(valid)
        }
        return e
    }

    /// The three per-sequence curves and the mean overlap of one run on one sequence.
    public struct Curves: Equatable, Sendable, Codable {
        /// Fraction of frames with IoU > t for t in `overlapThresholds` (21 values, float32 as stored by pytracking).
        public var success: [Float]
        /// Fraction of frames with centre error ≤ t px for t in 0…50.
        public var precision: [Float]
        /// Fraction of frames with normalised error ≤ t for t in 0…0.50.
        public var normalizedPrecision: [Float]
        /// Mean IoU over valid frames (pytracking's `avg_overlap_all`); NaN when no frame is valid.
        public var averageOverlap: Double
        /// Frames in the sequence.
        public var frames: Int
    }

    /// Turns frame errors into curves. The denominator is the number of ground-truth frames
    /// (all frames), or with `rules.legacyValidFrameDenominator` the number of valid frames for
    /// datasets other than `lasot` and `uav`.
    public static func curves(_ e: FrameErrors, rules: OPERules, sequence: String) throws -> Curves {
        let n = e.overlap.count
        var length = n
        if rules.legacyValidFrameDenominator && rules.tag != "lasot" && rules.tag != "uav" {
            length = e.valid.lazy.filter { $0 }.count
        }
        guard length > 0 else { throw EvaluationError("sequence \(sequence): no frame to score (\"Seq length zero\")") }
        // pytracking: count.float() / seq_length, i.e. a float32 division.
        let len = Float(length)
        func curve(_ values: [Double], _ thresholds: [Double], _ hit: (Double, Double) -> Bool) -> [Float] {
            thresholds.map { t in
                var c = 0
                for v in values where hit(v, t) { c += 1 }
                return Float(c) / len
            }
        }
        var sum = 0.0, validCount = 0
        for i in 0..<n where e.valid[i] { sum += e.overlap[i]; validCount += 1 }
        return Curves(success: curve(e.overlap, overlapThresholds, >),
                      precision: curve(e.center, centerThresholds, <=),
                      normalizedPrecision: curve(e.normalizedCenter, normalizedThresholds, <=),
                      averageOverlap: validCount > 0 ? sum / Double(validCount) : .nan,
                      frames: n)
    }

    /// Averages the curves of several runs of one sequence (pytracking `merge_results`).
    public static func mergeRuns(_ runs: [Curves]) -> Curves {
        precondition(!runs.isEmpty)
        if runs.count == 1 { return runs[0] }
        func avg(_ k: KeyPath<Curves, [Float]>) -> [Float] {
            (0..<runs[0][keyPath: k].count).map { i in runs.reduce(Float(0)) { $0 + $1[keyPath: k][i] } / Float(runs.count) }
        }
        return Curves(success: avg(\.success), precision: avg(\.precision), normalizedPrecision: avg(\.normalizedPrecision),
                      averageOverlap: runs.reduce(0) { $0 + $1.averageOverlap } / Double(runs.count), frames: runs[0].frames)
    }
}

/// The headline numbers of one tracker (or one sequence), in percent.
public struct OPESummary: Equatable, Sendable, Codable {
    /// Success AUC: mean of the 21-point success curve (t = 0 and t = 1 included).
    public var auc: Double
    /// Precision at 20 px.
    public var precision: Double
    /// Normalised precision at 0.20.
    public var normPrecision: Double
    /// Success at IoU 0.50 and 0.75.
    public var op50: Double
    public var op75: Double
    /// The mean curves ×100 (21, 51, 51 values), for plots.
    public var successCurve: [Double]
    public var precisionCurve: [Double]
    public var normPrecisionCurve: [Double]

    enum CodingKeys: String, CodingKey {
        case auc, precision, norm_precision, op50, op75, success_curve, precision_curve, norm_precision_curve
    }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: CodingKeys.self)
        auc = try c.decode(Double.self, forKey: .auc); precision = try c.decode(Double.self, forKey: .precision)
        normPrecision = try c.decode(Double.self, forKey: .norm_precision)
        op50 = try c.decode(Double.self, forKey: .op50); op75 = try c.decode(Double.self, forKey: .op75)
        successCurve = try c.decodeIfPresent([Double].self, forKey: .success_curve) ?? []
        precisionCurve = try c.decodeIfPresent([Double].self, forKey: .precision_curve) ?? []
        normPrecisionCurve = try c.decodeIfPresent([Double].self, forKey: .norm_precision_curve) ?? []
    }
    public func encode(to e: Encoder) throws {
        var c = e.container(keyedBy: CodingKeys.self)
        try c.encode(auc, forKey: .auc); try c.encode(precision, forKey: .precision)
        try c.encode(normPrecision, forKey: .norm_precision); try c.encode(op50, forKey: .op50); try c.encode(op75, forKey: .op75)
        if !successCurve.isEmpty {
            try c.encode(successCurve, forKey: .success_curve); try c.encode(precisionCurve, forKey: .precision_curve)
            try c.encode(normPrecisionCurve, forKey: .norm_precision_curve)
        }
    }

    /// Plain mean of each curve over sequences (each sequence weighs the same), ×100
    /// (`plot_results.py`). Accumulates in float64 over the float32 per-sequence values; pytracking
    /// averages in float32, so the last float32 digit may differ (≤ 1e-4 %, invisible at 2 decimals).
    public init(sequences: [OPEScoring.Curves]) {
        precondition(!sequences.isEmpty)
        func mean(_ k: KeyPath<OPEScoring.Curves, [Float]>) -> [Double] {
            (0..<sequences[0][keyPath: k].count).map { i in
                sequences.reduce(0.0) { $0 + Double($1[keyPath: k][i]) } / Double(sequences.count) * 100
            }
        }
        successCurve = mean(\.success)
        precisionCurve = mean(\.precision)
        normPrecisionCurve = mean(\.normalizedPrecision)
        auc = successCurve.reduce(0, +) / Double(successCurve.count)
        op50 = successCurve[10]
        op75 = successCurve[15]
        precision = precisionCurve[20]
        normPrecision = normPrecisionCurve[20]
    }

    /// The same numbers without the curves (per-sequence entries in JSON).
    public var withoutCurves: OPESummary {
        var s = self; s.successCurve = []; s.precisionCurve = []; s.normPrecisionCurve = []; return s
    }
}
