import ETData
import ArgumentParser
import ETEvaluation
import Foundation

/// `etrack eval import`: bring published raw results (pytracking, pysot, GOT-10k toolkit layouts)
/// into our layout so `score` can compare them with ours.
struct EvalImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import another toolkit's raw result folder (pytracking, pysot or got10k layout).")

    @Option(name: .long, help: "Layout of --from: pytracking, pysot or got10k.")
    var format: String

    @Option(name: .long, help: "The downloaded results folder.")
    var from: String

    @Option(name: .long, help: "Destination folder (our layout).")
    var to: String

    @Flag(name: .long, help: "got10k: import every repetition into <to>/runN/ (default: the first only).")
    var allRepetitions = false

    @Option(name: .long, help: "Check against this dataset kind (with --root): missing sequences and row counts are reported.")
    var dataset: DatasetKind?

    @Option(name: .long, help: "Dataset root for --dataset.")
    var root: String?

    func validate() throws {
        guard ResultImporter.Layout(rawValue: format) != nil else {
            throw ValidationError("--format must be one of \(ResultImporter.Layout.allCases.map(\.rawValue).joined(separator: ", ")), got '\(format)'")
        }
        if (dataset == nil) != (root == nil) { throw ValidationError("--dataset and --root go together") }
    }

    func run() throws {
        let seqs = try dataset.map { try Dataset.load($0, root: root!) }
        let s = try ResultImporter.importResults(from: from, to: to, layout: ResultImporter.Layout(rawValue: format)!,
                                                 allRepetitions: allRepetitions, sequences: seqs,
                                                 warn: { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) })
        for (dir, names) in s.written.sorted(by: { $0.key < $1.key }) { print("\(dir): \(names.count) sequences") }
    }
}
