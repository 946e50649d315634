import ETData
import ETCore
import Foundation

/// One tracker to score: a display name and one results folder per run (several runs of a
/// stochastic tracker are averaged per sequence first, as pytracking's `merge_results`).
public struct TrackerResults: Equatable, Sendable {
    public var name: String
    public var runDirs: [String]
    public init(name: String, runDirs: [String]) { self.name = name; self.runDirs = runDirs }

    /// Parses `NAME=DIR` (or a bare `DIR`, named after its last path component). Repeating a name
    /// adds runs to it (see `merged`).
    public init(parsing text: String) throws {
        if let eq = text.firstIndex(of: "=") {
            let name = String(text[..<eq]), dir = String(text[text.index(after: eq)...])
            guard !name.isEmpty, !dir.isEmpty else { throw EvaluationError("--results '\(text)': expected NAME=DIR") }
            self.init(name: name, runDirs: [dir])
        } else {
            self.init(name: (text).pathLastComponent, runDirs: [text])
        }
    }

    /// Joins entries with the same name into one tracker with several runs (first-seen order).
    public static func merged(_ list: [TrackerResults]) -> [TrackerResults] {
        var out: [TrackerResults] = []
        for t in list {
            if let i = out.firstIndex(where: { $0.name == t.name }) { out[i].runDirs += t.runDirs } else { out.append(t) }
        }
        return out
    }
}

/// Everything `etrack eval score` computes, ready for JSON, tables and plots.
public struct ScoreReport: Codable, Sendable {
    public var dataset: String
    /// pytracking's dataset tag used for the OPE rules.
    public var datasetTag: String
    public var variant: String
    public var `protocol`: String
    public var sequences: Int
    public var trackers: [TrackerScore]

    enum CodingKeys: String, CodingKey { case dataset, datasetTag = "dataset_tag", variant, `protocol`, sequences, trackers }
}

/// One tracker's scores. Percentages throughout.
public struct TrackerScore: Codable, Sendable {
    public var name: String
    public var runs: Int
    /// Sequences scored (sequences without results are listed in `missing` when skipped).
    public var scored: Int
    public var missing: [String]
    /// OPE summary over the scored sequences (nil when no OPE could be computed).
    public var ope: OPESummary?
    /// GOT-10k toolkit AO/SR (with `--protocol got10k`).
    public var got10k: GOT10kScoring.Summary?
    /// Per sequence: OPE numbers (no curves) and, for got10k, AO/SR.
    public var perSequence: [SequenceScore]
    /// Per attribute (datasets with attributes): OPE summary over the sequences that have it.
    public var perAttribute: [String: OPESummary]
    /// Mean tracker speed from the time files (frames per second; mean of 1/t over frames > 0).
    public var speedFPS: Double?

    enum CodingKeys: String, CodingKey {
        case name, runs, scored, missing, auc, precision, norm_precision, op50, op75, ao, sr50, sr75
        case speed_fps, curves, got10k_success_curve, sequences, attributes
    }
    struct Curves: Codable { var success: [Double]; var precision: [Double]; var norm_precision: [Double] }

    public init(name: String, runs: Int, scored: Int, missing: [String], ope: OPESummary?, got10k: GOT10kScoring.Summary?,
                perSequence: [SequenceScore], perAttribute: [String: OPESummary], speedFPS: Double?) {
        self.name = name; self.runs = runs; self.scored = scored; self.missing = missing; self.ope = ope
        self.got10k = got10k; self.perSequence = perSequence; self.perAttribute = perAttribute; self.speedFPS = speedFPS
    }

    public func encode(to e: Encoder) throws {
        var c = e.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(runs, forKey: .runs); try c.encode(scored, forKey: .scored)
        try c.encode(missing, forKey: .missing)
        if let ope {
            try c.encode(ope.auc, forKey: .auc); try c.encode(ope.precision, forKey: .precision)
            try c.encode(ope.normPrecision, forKey: .norm_precision); try c.encode(ope.op50, forKey: .op50); try c.encode(ope.op75, forKey: .op75)
            try c.encode(Curves(success: ope.successCurve, precision: ope.precisionCurve, norm_precision: ope.normPrecisionCurve), forKey: .curves)
        }
        if let g = got10k {
            try c.encode(g.ao, forKey: .ao); try c.encode(g.sr50, forKey: .sr50); try c.encode(g.sr75, forKey: .sr75)
            try c.encodeIfPresent(g.successCurve, forKey: .got10k_success_curve)
        }
        try c.encodeIfPresent(speedFPS, forKey: .speed_fps)
        try c.encode(perSequence, forKey: .sequences)
        if !perAttribute.isEmpty { try c.encode(perAttribute.mapValues { $0.withoutCurves }, forKey: .attributes) }
    }

    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name); runs = try c.decode(Int.self, forKey: .runs)
        scored = try c.decode(Int.self, forKey: .scored); missing = try c.decode([String].self, forKey: .missing)
        if let auc = try c.decodeIfPresent(Double.self, forKey: .auc) {
            let curves = try c.decodeIfPresent(Curves.self, forKey: .curves)
            ope = OPESummary(auc: auc, precision: try c.decode(Double.self, forKey: .precision),
                             normPrecision: try c.decode(Double.self, forKey: .norm_precision),
                             op50: try c.decode(Double.self, forKey: .op50), op75: try c.decode(Double.self, forKey: .op75),
                             successCurve: curves?.success ?? [], precisionCurve: curves?.precision ?? [],
                             normPrecisionCurve: curves?.norm_precision ?? [])
        } else { ope = nil }
        if let ao = try c.decodeIfPresent(Double.self, forKey: .ao) {
            var g = GOT10kScoring.Summary(ious: [])
            g.ao = ao; g.sr50 = try c.decode(Double.self, forKey: .sr50); g.sr75 = try c.decode(Double.self, forKey: .sr75)
            g.successCurve = try c.decodeIfPresent([Double].self, forKey: .got10k_success_curve)
            got10k = g
        } else { got10k = nil }
        speedFPS = try c.decodeIfPresent(Double.self, forKey: .speed_fps)
        perSequence = try c.decode([SequenceScore].self, forKey: .sequences)
        perAttribute = try c.decodeIfPresent([String: OPESummary].self, forKey: .attributes) ?? [:]
    }
}

/// One sequence's numbers for one tracker (percent).
public struct SequenceScore: Codable, Sendable, Equatable {
    public var name: String
    public var frames: Int
    public var auc: Double?, precision: Double?, norm_precision: Double?, op50: Double?, op75: Double?
    public var ao: Double?, sr50: Double?, sr75: Double?
}

extension OPESummary {
    /// Memberwise form (used when decoding reports).
    public init(auc: Double, precision: Double, normPrecision: Double, op50: Double, op75: Double,
                successCurve: [Double], precisionCurve: [Double], normPrecisionCurve: [Double]) {
        self.auc = auc; self.precision = precision; self.normPrecision = normPrecision; self.op50 = op50; self.op75 = op75
        self.successCurve = successCurve; self.precisionCurve = precisionCurve; self.normPrecisionCurve = normPrecisionCurve
    }
}

/// Scores result folders against a dataset (`etrack eval score`).
public enum Scorer {
    public struct Options: Sendable {
        public var variant: OPEVariant = .pytracking
        public var scoringProtocol: ScoringProtocol = .ope
        /// Leave sequences without a result out of the mean instead of failing (`skip_missing_seq`).
        public var skipMissing = false
        /// Old pytracking denominator (valid frames except lasot/uav).
        public var legacyDenominator = false
        /// Extra attributes per sequence (from `--attributes FILE.json`), merged with the dataset's.
        public var attributes: [String: [String]] = [:]
        public init(variant: OPEVariant = .pytracking, scoringProtocol: ScoringProtocol = .ope, skipMissing: Bool = false) {
            self.variant = variant; self.scoringProtocol = scoringProtocol; self.skipMissing = skipMissing
        }
    }

    /// Scores every tracker on every sequence.
    /// - Throws: `EvaluationError` / `DatasetError` naming the sequence, file and frame at fault;
    ///   a missing result file unless `skipMissing`.
    public static func score(_ trackers: [TrackerResults], sequences: [TrackingSequence], kind: DatasetKind,
                             options: Options) throws -> ScoreReport {
        var rules = kind.opeRules
        rules.legacyValidFrameDenominator = options.legacyDenominator
        var out: [TrackerScore] = []
        for t in TrackerResults.merged(trackers) {
            var curves: [OPEScoring.Curves] = [], scoredSeqs: [TrackingSequence] = []
            var missing: [String] = [], perSeq: [SequenceScore] = [], allIoUs: [Double] = [], allTimes: [Double] = []
            for s in sequences {
                let gt = s.groundTruth.box4
                let runFiles = t.runDirs.map { ResultFiles.runFiles(dir: $0, sequence: s.name) }
                if runFiles.contains(where: { $0.isEmpty }) {
                    let dir = t.runDirs[runFiles.firstIndex(where: { $0.isEmpty })!]
                    if options.skipMissing { missing.append(s.name); continue }
                    throw EvaluationError("\(t.name): result not found: \(DatasetFiles.join(dir, s.name + ".txt")) (use --skip-missing to leave such sequences out)")
                }
                if gt.count != s.count {
                    throw EvaluationError("sequence \(s.name): the ground truth has \(gt.count) rows for \(s.count) frames (a test split without annotations cannot be scored locally)")
                }
                var entry = SequenceScore(name: s.name, frames: s.count)
                var runCurves: [OPEScoring.Curves] = []
                var seqIoUs: [Double] = []
                for (dir, files) in zip(t.runDirs, runFiles) {
                    for f in files {
                        let pred = try ResultFiles.readBoxes(f)
                        let e = try OPEScoring.frameErrors(prediction: pred, groundTruth: gt, visible: rules.usesVisibility ? s.visible : nil, rules: rules,
                                                           variant: options.variant, sequence: s.name, resultPath: f)
                        runCurves.append(try OPEScoring.curves(e, rules: rules, sequence: s.name))
                        if options.scoringProtocol == .got10k {
                            seqIoUs += try GOT10kScoring.ious(prediction: pred, groundTruth: gt, cover: s.cover, bound: s.imageSize,
                                                              sequence: s.name, resultPath: f)
                        }
                    }
                    if let tf = ResultFiles.timeFile(dir: dir, sequence: s.name) { allTimes += try ResultFiles.readTimes(tf) }
                }
                let c = OPEScoring.mergeRuns(runCurves)
                curves.append(c); scoredSeqs.append(s)
                let one = OPESummary(sequences: [c])
                entry.auc = one.auc; entry.precision = one.precision; entry.norm_precision = one.normPrecision
                entry.op50 = one.op50; entry.op75 = one.op75
                if options.scoringProtocol == .got10k {
                    let g = GOT10kScoring.Summary(ious: seqIoUs, withCurve: false)
                    entry.ao = g.ao; entry.sr50 = g.sr50; entry.sr75 = g.sr75
                    allIoUs += seqIoUs
                }
                perSeq.append(entry)
            }
            var perAttr: [String: OPESummary] = [:]
            var byAttr: [String: [OPEScoring.Curves]] = [:]
            for (s, c) in zip(scoredSeqs, curves) {
                for a in Set(s.attributes + (options.attributes[s.name] ?? [])) { byAttr[a, default: []].append(c) }
            }
            for (a, cs) in byAttr { perAttr[a] = OPESummary(sequences: cs) }
            let times = allTimes.filter { !$0.isNaN && $0 > 0 }
            out.append(TrackerScore(name: t.name, runs: t.runDirs.count, scored: curves.count, missing: missing,
                                    ope: curves.isEmpty ? nil : OPESummary(sequences: curves),
                                    got10k: options.scoringProtocol == .got10k ? GOT10kScoring.Summary(ious: allIoUs) : nil,
                                    perSequence: perSeq, perAttribute: perAttr,
                                    speedFPS: times.isEmpty ? nil : times.reduce(0) { $0 + 1 / $1 } / Double(times.count)))
        }
        return ScoreReport(dataset: kind.rawValue, datasetTag: rules.tag, variant: options.variant.rawValue,
                           protocol: options.scoringProtocol.rawValue, sequences: sequences.count, trackers: out)
    }

    /// The report as pretty, key-sorted JSON.
    public static func json(_ r: ScoreReport) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try enc.encode(r), as: UTF8.self) + "\n"
    }
}
