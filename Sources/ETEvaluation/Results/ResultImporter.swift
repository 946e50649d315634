import ETData
import Foundation

/// Imports other trackers' published raw results into our layout (`<to>/<seq>.txt`, comma
/// separated, plus `<seq>_time.txt` when present), so they can be scored side by side with ours.
///
/// Accepted layouts of `from`:
/// - `pytracking`: `<from>/<seq>.txt` (tab or comma separated, often integers), `<seq>_time.txt`;
/// - `pysot`: `<from>/<seq>.txt` (comma separated), or `<from>/<Tracker>/<seq>.txt` for a folder of
///   trackers (each is imported into `<to>/<Tracker>/`); VOT `baseline/` results are not OPE results
///   and are rejected;
/// - `got10k`: `<from>/<seq>/<seq>_001.txt …` (repetition 1 becomes `<seq>.txt`; with
///   `allRepetitions` every repetition r goes to `<to>/run<r>/<seq>.txt`).
/// Every row is parsed (errors name the path and line); NaN rows are kept as they are, so `score`
/// reports them with the frame, as the reference toolkits would.
public enum ResultImporter {
    public enum Layout: String, Sendable, CaseIterable { case pytracking, pysot, got10k }

    public struct Summary: Sendable, Equatable {
        /// Output folder → sequences written.
        public var written: [String: [String]] = [:]
    }

    /// Imports the results; when `sequences` is given, checks every one has a file with one row
    /// per frame (longer/shorter files are reported, not fixed: `score` applies the toolkit rules).
    /// - Throws: `DatasetError` for an unreadable row, `EvaluationError` for a layout problem.
    public static func importResults(from: String, to: String, layout: Layout, allRepetitions: Bool = false,
                                     sequences: [TrackingSequence]? = nil, warn: (String) -> Void = { _ in }) throws -> Summary {
        guard DatasetFiles.isDirectory(from) else { throw DatasetError(path: from, "results folder not found") }
        var summary = Summary()
        let entries = try FileManager.default.contentsOfDirectory(atPath: from).filter { !$0.hasPrefix(".") }.sorted(by: DatasetFiles.naturalLess)
        switch layout {
        case .pytracking, .pysot:
            let txt = entries.filter { $0.hasSuffix(".txt") && !$0.hasSuffix("_time.txt") && DatasetFiles.isFile(DatasetFiles.join(from, $0)) }
            if txt.isEmpty && layout == .pysot {
                if entries.contains("baseline") { throw EvaluationError("\(from): VOT 'baseline' results are not one-pass results; import the OPE results folder") }
                for t in entries where DatasetFiles.isDirectory(DatasetFiles.join(from, t)) {
                    let sub = try importResults(from: DatasetFiles.join(from, t), to: DatasetFiles.join(to, t), layout: .pysot,
                                                sequences: sequences, warn: warn)
                    summary.written.merge(sub.written) { $0 + $1 }
                }
                return summary
            }
            if txt.isEmpty { throw EvaluationError("\(from): no <sequence>.txt result files") }
            for f in txt {
                let seq = String(f.dropLast(4))
                try copy(DatasetFiles.join(from, f), to: DatasetFiles.join(to, f))
                let time = DatasetFiles.join(from, seq + "_time.txt")
                if DatasetFiles.isFile(time) { try copyTimes(time, to: DatasetFiles.join(to, seq + "_time.txt")) }
                summary.written[to, default: []].append(seq)
            }
        case .got10k:
            for seq in entries where DatasetFiles.isDirectory(DatasetFiles.join(from, seq)) {
                let runs = ResultFiles.runFiles(dir: from, sequence: seq)
                if runs.isEmpty { warn("\(DatasetFiles.join(from, seq)): no \(seq)_NNN.txt files, skipped"); continue }
                for (r, file) in runs.enumerated() where allRepetitions || r == 0 {
                    let dir = allRepetitions ? DatasetFiles.join(to, "run\(r + 1)") : to
                    try copy(file, to: DatasetFiles.join(dir, seq + ".txt"))
                    if let time = ResultFiles.timeFile(dir: from, sequence: seq) { try copyTimes(time, to: DatasetFiles.join(dir, seq + "_time.txt")) }
                    summary.written[dir, default: []].append(seq)
                }
            }
            if summary.written.isEmpty { throw EvaluationError("\(from): no GOT-10k toolkit results (<seq>/<seq>_001.txt)") }
        }
        if let sequences {
            for (dir, written) in summary.written {
                let have = Set(written)
                for s in sequences {
                    if !have.contains(s.name) { warn("\(dir): no result for sequence \(s.name)"); continue }
                    let n = ResultFiles.lineCount(DatasetFiles.join(dir, s.name + ".txt"))
                    if n != s.count { warn("\(dir)/\(s.name).txt: \(n) rows for \(s.count) frames (score will truncate/pad per the toolkit rules)") }
                }
            }
        }
        return summary
    }

    static func copy(_ src: String, to dst: String) throws {
        let rows = try ResultFiles.readBoxes(src)
        func fmt(_ v: Double) -> String { v.isNaN ? "nan" : (v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)) }
        let text = rows.map { "\(fmt($0.x)),\(fmt($0.y)),\(fmt($0.w)),\(fmt($0.h))" }.joined(separator: "\n") + "\n"
        try ResultFiles.writeAtomically(text, to: dst)
    }

    static func copyTimes(_ src: String, to dst: String) throws {
        try ResultFiles.writeAtomically(ResultFiles.timeText(try ResultFiles.readTimes(src)), to: dst)
    }
}
