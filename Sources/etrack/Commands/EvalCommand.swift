import ETData
import ArgumentParser
import ETEvaluation

/// `etrack eval`: run, score, report and import benchmark evaluations.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate trackers on benchmark datasets (OPE as pytracking/OSTrack, GOT-10k toolkit).",
        discussion: "See docs/evaluation/README.md for the layouts, the scoring rules and cluster examples.",
        subcommands: [EvalRun.self, EvalScore.self, EvalReport.self, EvalImport.self])
}

extension DatasetKind: ExpressibleByArgument {}
extension OPEVariant: ExpressibleByArgument {}
extension ScoringProtocol: ExpressibleByArgument {}

/// `--dataset KIND --root DIR [--sequences a,b,c]`, shared by run, score and import.
struct DatasetOptions: ParsableArguments {
    @Option(name: .long, help: "Dataset layout: \(DatasetKind.allCases.map(\.rawValue).joined(separator: "|")).")
    var dataset: DatasetKind

    @Option(name: .long, help: "Dataset root folder.")
    var root: String

    @Option(name: .long, help: "Only these sequences, comma separated (default: the whole split).")
    var sequences: String?

    var sequenceNames: [String]? {
        sequences.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    /// Loads the sequences; every requested name must exist.
    func load() throws -> [TrackingSequence] {
        let seqs = try Dataset.load(dataset, root: root, names: sequenceNames)
        if let names = sequenceNames {
            let found = Set(seqs.map(\.name))
            let missing = names.filter { !found.contains($0) }
            if !missing.isEmpty { throw ValidationError("--sequences: not in \(dataset.rawValue) at \(root): \(missing.joined(separator: ", "))") }
        }
        return seqs
    }
}

import Foundation
