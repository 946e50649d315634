import ETCore
import ETNN
import ETONNX
import Foundation

/// What a run is (everything that decides its numbers), stored in every checkpoint so `--resume`
/// can refuse a run whose settings changed.
public struct TrainingSettings: Codable, Equatable, Sendable {
    /// A registry name (with `@` overrides) or a configuration JSON document.
    public var configuration: String
    public var data: [String]
    public var ratios: [Double]?
    public var batchSize = 32
    public var learningRate = 4e-4
    /// 1 from scratch ("without pretraining, don't lower the backbone LR"); 0.1 fine-tuning.
    public var backboneMultiplier = 1.0
    public var weightDecay = 1e-4
    public var decayAll = false
    public var clipNorm = 0.1
    public var warmupSteps = 0
    /// Steps at which the rate drops ×0.1. `etrack train --epochs` puts one at 80% of the epochs
    /// (the recipe's 240 of 300); with `--steps` there is none unless given, so that a run taken
    /// further with `--steps N --resume` has the schedule it would have had in one go.
    public var milestones: [Int] = []
    public var seed: UInt64 = 0
    public var augmentation = Augmentation()
    public var lossWeights = LossWeights()
    /// Non-finite steps in a row that stop the run.
    public var maxSkippedInRow = 10
    /// Data-parallel replicas, one per thread (`--threads`; nil is 1): the batch is cut into this
    /// many chunks with BN statistics of their own (TrainingStep), so it decides the numbers.
    public var replicas: Int?

    public init(configuration: String, data: [String]) { self.configuration = configuration; self.data = data }

    /// The fields that must match for `--resume` (the total step count may grow).
    func differences(from o: TrainingSettings) -> [String] {
        var d: [String] = []
        if configuration != o.configuration { d.append("configuration \(o.configuration) → \(configuration)") }
        if data != o.data { d.append("data \(o.data) → \(data)") }
        if ratios != o.ratios { d.append("data ratios") }
        if batchSize != o.batchSize { d.append("batch size \(o.batchSize) → \(batchSize)") }
        if learningRate != o.learningRate { d.append("learning rate \(o.learningRate) → \(learningRate)") }
        if backboneMultiplier != o.backboneMultiplier { d.append("backbone multiplier") }
        if weightDecay != o.weightDecay || decayAll != o.decayAll { d.append("weight decay") }
        if clipNorm != o.clipNorm { d.append("clip norm") }
        if warmupSteps != o.warmupSteps { d.append("warm-up") }
        if seed != o.seed { d.append("seed \(o.seed) → \(seed)") }
        if augmentation != o.augmentation { d.append("augmentation") }
        if lossWeights != o.lossWeights { d.append("loss weights") }
        if (replicas ?? 1) != (o.replicas ?? 1) {
            d.append("threads \(o.replicas ?? 1) → \(replicas ?? 1) (each thread trains a chunk of the batch with its own BN statistics, so the count decides the numbers: resume with --threads \(o.replicas ?? 1))")
        }
        return d
    }
}

/// A training checkpoint: weights (by tensor name, so `etrack track --model`, `etrack export`
/// and `--init` read it as a weights file), the AdamW moments as two flat tensors, and in
/// `__metadata__` the step, the number of batches drawn (the sampler's whole state: sample i
/// depends only on the seed and i) and the settings.
public struct TrainingCheckpoint {
    public var step: Int
    public var batchesDrawn: Int
    public var settings: TrainingSettings
    public var parameters: [Float]
    public var m: [Float], v: [Float]

    static let momentNames = ("optimizer.adam_m", "optimizer.adam_v")

    /// The safetensors document; `weightsOnly` leaves the moments out (`model.safetensors`).
    public func file(for config: ModelConfiguration, weightsOnly: Bool) throws -> SafeTensors {
        let table = ParameterTable(config)
        var tensors: [String: Tensor] = [:]
        for s in table.specs {
            tensors[s.name] = Tensor(shape: s.shape, data: Array(parameters[s.offset..<s.offset + s.count]))
        }
        var metadata = ["etrack.config": ModelExporter.configurationString(config), "etrack.step": "\(step)"]
        if !weightsOnly {
            tensors[Self.momentNames.0] = Tensor(shape: [m.count], data: m)
            tensors[Self.momentNames.1] = Tensor(shape: [v.count], data: v)
            metadata["etrack.batches_drawn"] = "\(batchesDrawn)"
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            metadata["etrack.training"] = String(decoding: try e.encode(settings), as: UTF8.self)
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// Reads a checkpoint written by `file(for:weightsOnly: false)`.
    /// - Throws: `TrainingError` naming the file and what is missing or of the wrong size.
    public static func read(_ path: String) throws -> (TrainingCheckpoint, ModelConfiguration) {
        let f: SafeTensors
        do { f = try SafeTensors(contentsOf: path) } catch { throw TrainingError("\(path): \(error)") }
        guard let json = f.metadata["etrack.training"], let step = f.metadata["etrack.step"].flatMap(Int.init),
              let drawn = f.metadata["etrack.batches_drawn"].flatMap(Int.init) else {
            throw TrainingError("\(path): not a training checkpoint (no etrack.training / etrack.step / etrack.batches_drawn metadata); use --init to start from weights")
        }
        let settings: TrainingSettings
        do { settings = try JSONDecoder().decode(TrainingSettings.self, from: Data(json.utf8)) } catch {
            throw TrainingError("\(path): the etrack.training metadata does not decode: \(error)")
        }
        let config: ModelConfiguration
        do { config = try ExportWeights.configuration(for: f, override: nil) } catch { throw TrainingError("\(error)") }
        var weights = f
        weights.tensors[momentNames.0] = nil
        weights.tensors[momentNames.1] = nil
        let model: Model
        do { model = try ExportWeights.model(weights, configuration: config) } catch { throw TrainingError("\(path): \(error)") }
        let n = model.table.totalCount
        guard let m = f.tensors[momentNames.0]?.data, let v = f.tensors[momentNames.1]?.data, m.count == n, v.count == n else {
            throw TrainingError("\(path): the optimizer moments are missing or not \(n) values")
        }
        return (TrainingCheckpoint(step: step, batchesDrawn: drawn, settings: settings, parameters: model.parameters, m: m, v: v), config)
    }
}

public struct TrainingError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
