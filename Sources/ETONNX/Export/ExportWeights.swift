import ETCore
import ETNN
import Foundation

/// An error of `etrack export`; the message names the file, tensor and configuration concerned.
public struct ExportError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Loading a safetensors checkpoint for export: the configuration comes from `--config` or from
/// the file's `__metadata__`, and the tensors must fit it exactly.
public enum ExportWeights {
    /// `__metadata__` keys read for the configuration, in order: a registry name (with optional
    /// `@` overrides) or a configuration JSON document.
    public static let configurationKeys = ["etrack.config", "config", "configuration", "model"]

    /// The configuration named by `--config` (a name or a JSON file) or, when nil, by the
    /// metadata of `weights`.
    /// - Throws: `ExportError` when neither names one, or the name is unknown.
    public static func configuration(for weights: SafeTensors, override: String?) throws -> ModelConfiguration {
        do {
            if let override { return try ModelRegistry.resolve(override) }
            guard let key = configurationKeys.first(where: { weights.metadata[$0] != nil }), let value = weights.metadata[key] else {
                throw ExportError("\(weights.source): no configuration in the file's __metadata__ (keys \(configurationKeys.joined(separator: ", "))); pass --config NAME")
            }
            if value.hasPrefix("{") {
                let config = try JSONDecoder().decode(ModelConfiguration.self, from: Data(value.utf8))
                try config.validate()
                return config
            }
            return try ModelRegistry.configuration(named: value)
        } catch let e as ModelError {
            throw ExportError("\(weights.source): \(e.description)")
        } catch let e as DecodingError {
            throw ExportError("\(weights.source): the configuration JSON in __metadata__ does not decode: \(e)")
        }
    }

    /// A model filled from `weights` for `config`.
    ///
    /// Every tensor of the configuration must be present with its exact shape, and nothing else
    /// (PyTorch's `num_batches_tracked` buffers are ignored); all problems are listed in one
    /// error (`tensor 'x': expected shape [..], found [..]`, `missing tensor`, `unexpected tensor`).
    /// - Throws: `ExportError`.
    public static func model(_ weights: SafeTensors, configuration config: ModelConfiguration) throws -> Model {
        let model: Model
        do { model = try Model(config) } catch let e as ModelError { throw ExportError(e.description) }
        let tensors = weights.tensors.filter { !$0.key.hasSuffix("num_batches_tracked") }
        // Wrong shapes first, then unknown names, then missing ones (a file for another
        // configuration misses many), so the telling problems lead the message.
        var shapes: [String] = [], unknown: [String] = [], missing: [String] = []
        for spec in model.table.specs {
            if let t = tensors[spec.name] {
                if t.shape != spec.shape { shapes.append("tensor '\(spec.name)': expected shape \(spec.shape), found \(t.shape)") }
            } else {
                missing.append("missing tensor '\(spec.name)' (expected shape \(spec.shape))")
            }
        }
        for name in tensors.keys.sorted() where model.table[name] == nil {
            unknown.append("unexpected tensor '\(name)' (shape \(tensors[name]!.shape))")
        }
        let problems = shapes + unknown + missing
        if !problems.isEmpty {
            let shown = problems.prefix(12).joined(separator: "; ")
            let more = problems.count > 12 ? "; and \(problems.count - 12) more (\(missing.count) missing in all)" : ""
            throw ExportError("\(weights.source): does not fit \(config.name): \(shown)\(more)")
        }
        do { try model.load(tensors) } catch let e as ModelError { throw ExportError("\(weights.source): \(e.description)") }
        return model
    }

    /// Reads `path` (safetensors) and fills a model: see `configuration(for:override:)` and
    /// `model(_:configuration:)`. Truncated or malformed files and non-finite values are refused,
    /// naming the file and tensor.
    /// - Throws: `ExportError`.
    public static func model(contentsOf path: String, configuration override: String?) throws -> Model {
        let st: SafeTensors
        do { st = try SafeTensors(contentsOf: path) } catch let e as WeightsError { throw ExportError(e.message) }
        return try model(st, configuration: configuration(for: st, override: override))
    }
}
