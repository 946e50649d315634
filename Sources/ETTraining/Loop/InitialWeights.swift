import ETCore
import ETNN
import Foundation

/// `--init WEIGHTS`: starting weights from any safetensors file, whole or partial (a backbone
/// only, or a checkpoint of a model with another head).
public enum InitialWeights {
    public struct Report: Equatable, Sendable {
        public var loaded: [String] = [], kept: [String] = [], ignored: [String] = []
        /// One line for the user: what came from the file, what kept its initial value, what was unused.
        public var summary: String {
            func group(_ names: [String]) -> String {
                let prefixes = Dictionary(grouping: names) { n -> String in
                    let parts = n.split(separator: ".")
                    return parts.count > 1 ? parts.prefix(2).joined(separator: ".") : n
                }
                return prefixes.keys.sorted().prefix(6).map { "\($0) (\(prefixes[$0]!.count))" }.joined(separator: ", ")
                    + (prefixes.count > 6 ? ", …" : "")
            }
            var s = "loaded \(loaded.count) tensors"
            if !kept.isEmpty { s += "; \(kept.count) not in the file keep their initial values: \(group(kept))" }
            if !ignored.isEmpty { s += "; \(ignored.count) in the file are not in this model: \(group(ignored))" }
            return s
        }
    }

    /// `base` (the model's initial flat buffer) with every tensor of `path` whose name the model
    /// has written over it.
    /// - Throws: `TrainingError` when the file does not read, a shared name has another shape (a
    ///   checkpoint of another configuration: every mismatch is listed), or nothing matches.
    public static func load(_ path: String, table: ParameterTable, base: [Float]) throws -> ([Float], Report) {
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: path) } catch { throw TrainingError("--init \(path): \(error)") }
        var values = base, report = Report(), mismatched: [String] = []
        for s in table.specs {
            guard let t = file.tensors[s.name] else { report.kept.append(s.name); continue }
            guard t.shape == s.shape else { mismatched.append("\(s.name): file \(t.shape), model \(s.shape)"); continue }
            values.replaceSubrange(s.offset..<s.offset + s.count, with: t.data)
            report.loaded.append(s.name)
        }
        report.ignored = file.names.filter { table[$0] == nil && !$0.hasSuffix("num_batches_tracked") && !$0.hasPrefix("optimizer.") }
        if !mismatched.isEmpty {
            let configuration = file.metadata["etrack.config"].map { " (the file is \($0))" } ?? ""
            throw TrainingError("--init \(path): \(mismatched.count) tensor(s) have another shape than in this model\(configuration): "
                                + mismatched.prefix(5).joined(separator: "; ") + (mismatched.count > 5 ? "; …" : ""))
        }
        if report.loaded.isEmpty {
            throw TrainingError("--init \(path): no tensor of the file belongs to this model (\(file.names.count) tensors, e.g. \(file.names.prefix(3).joined(separator: ", ")))")
        }
        return (values, report)
    }
}
