import ArgumentParser
import ETEvaluation
import Foundation

/// `etrack eval score`: metrics identical to pytracking/OSTrack (OPE) or the GOT-10k toolkit.
struct EvalScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score result folders: AUC, precision, normalised precision, OP50/OP75 (and AO/SR for GOT-10k).",
        discussion: "Repeat --results NAME=DIR for several trackers; repeating a NAME adds runs that are averaged per sequence.")

    @OptionGroup var data: DatasetOptions

    @Option(name: .long, help: "NAME=DIR of a results folder (repeatable).")
    var results: [String]

    @Option(name: .long, help: "pytracking (GT x,y,w,h > 0 valid) or ostrack (w,h > 0 valid).")
    var variant: OPEVariant = .pytracking

    @Option(name: .long, help: "ope (pytracking/OSTrack) or got10k (the GOT-10k toolkit's AO/SR, plus OPE).")
    var `protocol`: ScoringProtocol = .ope

    @Option(name: .long, help: "Write the full report as JSON here.")
    var json: String?

    @Option(name: .long, help: "Write success/precision plots (SVG and PNG) into this folder.")
    var plots: String?

    @Option(name: .long, help: "Write the markdown table here (it is printed either way).")
    var markdown: String?

    @Option(name: .long, help: "Write a CSV (one row per tracker and sequence) here.")
    var csv: String?

    @Option(name: .long, help: "JSON {\"sequence\": [\"ATTR\", ...]} adding attributes for the per-attribute table.")
    var attributes: String?

    @Flag(name: .long, help: "Leave sequences without a result file out of the mean instead of failing.")
    var skipMissing = false

    @Flag(name: .long, help: "Old pytracking denominator: valid frames only, except lasot and uav.")
    var legacyDenominator = false

    @Flag(name: .long, help: "Also print the per-sequence AUC table.")
    var perSequence = false

    func validate() throws {
        guard !results.isEmpty else { throw ValidationError("give at least one --results NAME=DIR") }
        for r in results { _ = try TrackerResults(parsing: r) }
    }

    func run() throws {
        let seqs = try data.load()
        var options = Scorer.Options(variant: variant, scoringProtocol: `protocol`, skipMissing: skipMissing)
        options.legacyDenominator = legacyDenominator
        if let attributes {
            guard let d = FileManager.default.contents(atPath: attributes),
                  let map = try? JSONDecoder().decode([String: [String]].self, from: d) else {
                throw ValidationError("--attributes \(attributes): expected a JSON object {\"sequence\": [\"ATTR\", ...]}")
            }
            options.attributes = map
        }
        let report = try Scorer.score(try results.map(TrackerResults.init(parsing:)), sequences: seqs, kind: data.dataset, options: options)
        try ReportWriter.write(report, json: json, markdown: markdown, csv: csv, plots: plots, perSequence: perSequence)
    }
}

/// Shared by `score` and `report`: print the table and write the requested files.
enum ReportWriter {
    static func write(_ report: ScoreReport, json: String?, markdown: String?, csv: String?, plots: String?, perSequence: Bool) throws {
        let md = ReportTable.markdown(report, perSequence: perSequence)
        print(md, terminator: "")
        for t in report.trackers where !t.missing.isEmpty {
            FileHandle.standardError.write(Data("warning: \(t.name): no results for \(t.missing.count) sequence(s): \(t.missing.prefix(10).joined(separator: ", "))\(t.missing.count > 10 ? ", …" : "")\n".utf8))
        }
        if let json { try ResultFiles.writeAtomically(try Scorer.json(report), to: json) }
        if let markdown { try ResultFiles.writeAtomically(md, to: markdown) }
        if let csv { try ResultFiles.writeAtomically(ReportTable.csv(report), to: csv) }
        if let plots {
            let written = try PlotFiles.write(report, to: plots)
            FileHandle.standardError.write(Data("plots: \(written.joined(separator: ", "))\n".utf8))
        }
    }
}
