import ArgumentParser
import ETEvaluation
import Foundation

/// `etrack eval report`: tables and plots from saved score JSON files (no dataset needed).
struct EvalReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render tables and plots from JSON written by `etrack eval score --json`.",
        discussion: "Several JSON files of the same dataset, variant and protocol are combined into one table.")

    @Argument(help: "Score JSON files.")
    var inputs: [String]

    @Option(name: .long, help: "Write plots (SVG and PNG) into this folder.")
    var plots: String?

    @Option(name: .long, help: "Write the markdown table here.")
    var markdown: String?

    @Option(name: .long, help: "Write the CSV here.")
    var csv: String?

    @Flag(name: .long, help: "Also print the per-sequence AUC table.")
    var perSequence = false

    func run() throws {
        var combined: ScoreReport?
        for path in inputs {
            guard let d = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read") }
            let r: ScoreReport
            do { r = try JSONDecoder().decode(ScoreReport.self, from: d) } catch { throw ValidationError("\(path): not a score report: \(error)") }
            if var c = combined {
                guard c.dataset == r.dataset, c.variant == r.variant, c.protocol == r.protocol else {
                    throw ValidationError("\(path): \(r.dataset)/\(r.variant)/\(r.protocol) does not match \(c.dataset)/\(c.variant)/\(c.protocol)")
                }
                c.trackers += r.trackers
                combined = c
            } else { combined = r }
        }
        guard let report = combined else { throw ValidationError("give at least one JSON file") }
        try ReportWriter.write(report, json: nil, markdown: markdown, csv: csv, plots: plots, perSequence: perSequence)
    }
}
