import Foundation

/// Markdown and CSV tables across trackers, ranked by AUC (or AO for the GOT-10k protocol) as the
/// toolkits rank them.
public enum ReportTable {
    /// Trackers sorted best first by the headline metric (AUC; AO with the GOT-10k protocol).
    public static func ranked(_ r: ScoreReport) -> [TrackerScore] {
        r.trackers.sorted { key(r, $0) > key(r, $1) }
    }

    static func key(_ r: ScoreReport, _ t: TrackerScore) -> Double {
        let v = r.protocol == ScoringProtocol.got10k.rawValue ? (t.got10k?.ao ?? -1) : (t.ope?.auc ?? -1)
        return v.isNaN ? -1 : v
    }

    static func f(_ v: Double?) -> String {
        guard let v, !v.isNaN else { return "—" }
        return String(format: "%.2f", v)
    }

    static func columns(_ r: ScoreReport) -> [String] {
        var c = ["Tracker", "AUC", "P", "P_norm", "OP50", "OP75"]
        if r.protocol == ScoringProtocol.got10k.rawValue { c += ["AO", "SR0.5", "SR0.75"] }
        return c + ["FPS", "Sequences"]
    }

    static func row(_ r: ScoreReport, _ t: TrackerScore) -> [String] {
        var row = [t.name, f(t.ope?.auc), f(t.ope?.precision), f(t.ope?.normPrecision), f(t.ope?.op50), f(t.ope?.op75)]
        if r.protocol == ScoringProtocol.got10k.rawValue { row += [f(t.got10k?.ao), f(t.got10k?.sr50), f(t.got10k?.sr75)] }
        let seqs = t.missing.isEmpty ? "\(t.scored)" : "\(t.scored) (\(t.missing.count) missing)"
        return row + [t.speedFPS.map { String(format: "%.1f", $0) } ?? "—", seqs]
    }

    /// The headline table (percent, 2 decimals, as pytracking's `print_results`).
    public static func markdown(_ r: ScoreReport, perSequence: Bool = false, perAttribute: Bool = true) -> String {
        var s = "Dataset `\(r.dataset)` (rules `\(r.datasetTag)`), \(r.sequences) sequences, variant `\(r.variant)`, protocol `\(r.protocol)`.\n\n"
        s += mdTable(columns(r), ranked(r).map { row(r, $0) })
        if perAttribute {
            let attrs = Set(r.trackers.flatMap { $0.perAttribute.keys }).sorted()
            if !attrs.isEmpty {
                s += "\nSuccess AUC per attribute:\n\n"
                let ts = ranked(r)
                s += mdTable(["Attribute"] + ts.map(\.name), attrs.map { a in [a] + ts.map { f($0.perAttribute[a]?.auc) } })
            }
        }
        if perSequence {
            let ts = ranked(r)
            let names = ts.first?.perSequence.map(\.name) ?? []
            s += "\nSuccess AUC per sequence:\n\n"
            s += mdTable(["Sequence"] + ts.map(\.name), names.map { n in
                [n] + ts.map { t in f(t.perSequence.first { $0.name == n }?.auc) }
            })
        }
        return s
    }

    static func mdTable(_ header: [String], _ rows: [[String]]) -> String {
        var s = "| " + header.joined(separator: " | ") + " |\n"
        s += "|" + header.enumerated().map { $0.offset == 0 ? "---|" : "---:|" }.joined() + "\n"
        for r in rows { s += "| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        return s
    }

    /// One CSV row per tracker and sequence (`sequence` = `ALL` for the overall numbers).
    public static func csv(_ r: ScoreReport) -> String {
        var s = "tracker,sequence,frames,auc,precision,norm_precision,op50,op75,ao,sr50,sr75\n"
        func c(_ v: Double?) -> String { v.map { $0.isNaN ? "" : String(format: "%.4f", $0) } ?? "" }
        func q(_ t: String) -> String { t.contains(",") || t.contains("\"") ? "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : t }
        for t in ranked(r) {
            let frames = t.perSequence.reduce(0) { $0 + $1.frames }
            s += [q(t.name), "ALL", "\(frames)", c(t.ope?.auc), c(t.ope?.precision), c(t.ope?.normPrecision), c(t.ope?.op50), c(t.ope?.op75),
                  c(t.got10k?.ao), c(t.got10k?.sr50), c(t.got10k?.sr75)].joined(separator: ",") + "\n"
            for p in t.perSequence {
                s += [q(t.name), q(p.name), "\(p.frames)", c(p.auc), c(p.precision), c(p.norm_precision), c(p.op50), c(p.op75),
                      c(p.ao), c(p.sr50), c(p.sr75)].joined(separator: ",") + "\n"
            }
        }
        return s
    }
}
