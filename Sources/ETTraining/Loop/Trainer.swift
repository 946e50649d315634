import ETCore
import ETData
import ETEvaluation
import ETNN
import ETONNX
import Foundation

/// One logged batch (a line of `log.jsonl`).
public struct TrainingLogEntry: Codable, Equatable, Sendable {
    /// Optimiser steps taken after this batch.
    public var step: Int
    public var loss: Double, focal: Double, giou: Double, l1: Double, iou: Double
    public var lr: Double
    public var grad_norm: Double
    public var samples_per_s: Double
    /// True when the batch's loss or gradient was not finite and no step was taken.
    public var skipped: Bool
    /// `--validate` at this step: OPE success AUC, precision at 20 px and normalised precision
    /// at 0.2 (percent) of the weights after the step; absent on other lines.
    public var validation_auc: Double?
    public var validation_precision: Double?
    public var validation_norm_precision: Double?
}

/// The training loop of `etrack train`: pairs from `PairSampler`, the forward and backward pass
/// of `TrainingNetwork`, `TrackingLoss`, clipping, AdamW and the step schedule; checkpoints,
/// `log.jsonl`, a loss plot and a progress line in `directory`.
///
/// Resume is bit-exact: the checkpoint holds the float32 weights, running statistics and
/// moments exactly, the step and the number of batches drawn, and every batch is a pure function
/// of (seed, batch index); the replica count (`settings.replicas`) is part of the run, since each
/// replica's chunk has its own BN statistics.
public final class Trainer {
    public let settings: TrainingSettings
    public let configuration: ModelConfiguration
    public let directory: String
    public let trainingStep: TrainingStep
    public var network: TrainingNetwork<Float> { trainingStep.network }
    public let optimizer: AdamW
    public let sampler: PairSampler
    public let schedule: StepSchedule
    /// Optimiser steps taken.
    public private(set) var step = 0
    public private(set) var batchesDrawn = 0
    public private(set) var log: [TrainingLogEntry] = []
    /// Checkpoint every this many steps (and at the end, and when `shouldStop` turns true).
    public var checkpointEvery = 100
    /// Read between steps; when it returns true the run checkpoints and returns.
    public var shouldStop: () -> Bool = { false }
    /// Progress lines (stderr in the CLI); nil for silence.
    public var progress: ((String) -> Void)?
    /// Test hook: batches (0-based draw index) whose loss is replaced by NaN.
    public var injectNonFiniteAt: Set<Int> = []

    public var checkpointPath: String { directory.pathAppending("checkpoint.safetensors") }
    public var modelPath: String { directory.pathAppending("model.safetensors") }
    public var logPath: String { directory.pathAppending("log.jsonl") }

    /// - Parameters:
    ///   - resume: continue from `directory/checkpoint.safetensors` (refused when its settings differ).
    ///   - initial: weights to start from (ignored on resume); nil = the recipe's initialisation.
    public init(settings: TrainingSettings, sources: [TrainingSource], directory: String, totalSteps: Int,
                resume: Bool, initial: [Float]? = nil) throws {
        guard totalSteps > 0 else { throw TrainingError("--steps must be at least 1") }
        guard settings.batchSize > 0 else { throw TrainingError("--batch-size must be at least 1") }
        self.settings = settings
        self.directory = directory
        do { configuration = try ModelRegistry.resolve(settings.configuration) } catch { throw TrainingError("\(error)") }
        trainingStep = try TrainingStep(configuration, threads: settings.replicas ?? 1)
        optimizer = AdamW(table: trainingStep.network.table, groups: ParameterGroups(backboneMultiplier: settings.backboneMultiplier,
                                                                         decayAll: settings.decayAll),
                          weightDecay: settings.weightDecay)
        do {
            sampler = try PairSampler(sources: sources, ratios: settings.ratios, seed: settings.seed,
                                      configuration: configuration, augmentation: settings.augmentation)
        } catch { throw TrainingError("\(error)") }
        schedule = StepSchedule(baseRate: settings.learningRate, warmupSteps: settings.warmupSteps,
                                milestones: settings.milestones)
        self.totalSteps = totalSteps
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if resume {
            guard FileManager.default.fileExists(atPath: checkpointPath) else {
                throw TrainingError("\(checkpointPath): no checkpoint to resume (drop --resume to start a new run)")
            }
            let (ck, config) = try TrainingCheckpoint.read(checkpointPath)
            let diff = settings.differences(from: ck.settings)
            guard diff.isEmpty, config == configuration else {
                throw TrainingError("\(checkpointPath): the run was started with other settings (\(diff.joined(separator: "; "))); resume with the same settings or use another --out")
            }
            network.load(ck.parameters)
            optimizer.m = ck.m; optimizer.v = ck.v; optimizer.step = ck.step
            step = ck.step; batchesDrawn = ck.batchesDrawn
            // Lines after the checkpoint are batches that will be drawn again.
            log = Self.readLog(logPath).filter { $0.step <= ck.step }
            try rewriteLog()
        } else {
            if FileManager.default.fileExists(atPath: checkpointPath) {
                throw TrainingError("\(directory) already holds a run (checkpoint.safetensors); pass --resume to continue it, or choose another --out")
            }
            network.load(try initial ?? RandomWeights.model(configuration, seed: settings.seed).parameters)
            try rewriteLog()
        }
    }

    public let totalSteps: Int
    /// Tracks held-out sequences with the weights of the moment (`--validate`).
    public var validation: TrainingValidation?
    /// Validate every this many steps (and at the last step); 0: at every checkpoint.
    public var validateEvery = 0

    /// Trains until `totalSteps` optimiser steps are done or `shouldStop` says so.
    /// - Throws: `TrainingError` after `maxSkippedInRow` non-finite batches in a row (having
    ///   checkpointed the last good state), or when a frame cannot be read.
    public func run() throws {
        let b = settings.batchSize
        let params = network.params, grads = network.grads, count = network.parameterCount
        let statRanges = network.table.specs.filter { !$0.isTrainable }.map { $0.offset..<$0.offset + $0.count }
        var skippedInRow = 0
        let started = Date(), firstStep = step
        var lastProgress = Date.distantPast
        while step < totalSteps {
            if shouldStop() { break }
            let t0 = Date()
            let batch: TrainingBatch
            do { batch = try sampler.batch(first: batchesDrawn * b, count: b) } catch { throw TrainingError("\(error)") }
            let drawn = batchesDrawn
            batchesDrawn += 1
            // A skipped batch must leave no trace: keep the BN running statistics it would update.
            let savedStats = statRanges.map { r in Array(UnsafeBufferPointer(start: params + r.lowerBound, count: r.count)) }
            let value = trainingStep.run(template: batch.template, search: batch.search, targets: batch.targets,
                                 weights: settings.lossWeights, poison: injectNonFiniteAt.contains(drawn))
            var norm = Double.nan
            if value.total.isFinite { norm = GradientClipping.clip(grads, count: count, maxNorm: settings.clipNorm) }
            let lr = schedule.rate(at: step)
            let skipped = !value.total.isFinite || !norm.isFinite
            if skipped {
                for (r, saved) in zip(statRanges, savedStats) { for (k, x) in saved.enumerated() { params[r.lowerBound + k] = x } }
                skippedInRow += 1
            } else {
                optimizer.update(params: params, grads: UnsafePointer(grads), lr: lr)
                step += 1
                skippedInRow = 0
            }
            let rate = Double(b) / max(Date().timeIntervalSince(t0), 1e-9)
            var entry = TrainingLogEntry(step: step, loss: value.total, focal: value.focal, giou: value.giou, l1: value.l1,
                                         iou: value.iou, lr: lr, grad_norm: norm, samples_per_s: rate, skipped: skipped)
            if let validation, !skipped, step % (validateEvery > 0 ? validateEvery : checkpointEvery) == 0 || step == totalSteps {
                let t = Date()
                let v = try validation.evaluate(configuration: configuration, parameters: network.parameters())
                entry.validation_auc = v.auc; entry.validation_precision = v.precision; entry.validation_norm_precision = v.normPrecision
                progress?(String(format: "step %d: validation AUC %.2f, precision %.2f, normalised precision %.2f (%d sequences, %.1f s)",
                                 step, v.auc, v.precision, v.normPrecision, validation.sequences.count, Date().timeIntervalSince(t)))
            }
            log.append(entry)
            try appendLog(entry)
            if skipped {
                progress?("batch \(drawn + 1): non-finite \(value.total.isFinite ? "gradient" : "loss"), step skipped (\(skippedInRow) in a row)")
                if skippedInRow >= settings.maxSkippedInRow {
                    try checkpoint()
                    throw TrainingError("\(skippedInRow) non-finite batches in a row at step \(step); stopped (the checkpoint holds the last good state). Lower --lr or check the data.")
                }
            }
            if !skipped && (step % checkpointEvery == 0 || step == totalSteps) { try checkpoint() }
            if let progress, Date().timeIntervalSince(lastProgress) >= 1 || step == totalSteps {
                lastProgress = Date()
                let done = step - firstStep
                let perStep = Date().timeIntervalSince(started) / Double(max(done, 1))
                let eta = perStep * Double(totalSteps - step)
                progress(String(format: "step %d/%d  loss %.4f (focal %.4f giou %.4f l1 %.4f)  %.1f samples/s  ETA %@",
                                step, totalSteps, value.total, value.focal, value.giou, value.l1,
                                Double(b) / max(perStep, 1e-9), Self.duration(eta)))
            }
        }
        if step < totalSteps { try checkpoint() }   // stopped early: keep what was done
    }

    /// Writes `checkpoint.safetensors`, `model.safetensors` and the loss plot, each atomically.
    public func checkpoint() throws {
        let ck = TrainingCheckpoint(step: step, batchesDrawn: batchesDrawn, settings: settings,
                                    parameters: network.parameters(), m: optimizer.m, v: optimizer.v)
        do {
            try ck.file(for: configuration, weightsOnly: false).write(to: checkpointPath)
            try ck.file(for: configuration, weightsOnly: true).write(to: modelPath)
        } catch { throw TrainingError("\(error)") }
        try? writePlot()
    }

    func appendLog(_ e: TrainingLogEntry) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var line = try enc.encode(e)
        line.append(0x0A)
        guard let h = FileHandle(forWritingAtPath: logPath) else { throw TrainingError("\(logPath): cannot append") }
        defer { try? h.close() }
        h.seekToEndOfFile()
        h.write(line)
    }

    /// The log as kept in memory (after a resume: the lines up to the checkpoint's step).
    func rewriteLog() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var bytes: [UInt8] = []
        for e in log { bytes += try enc.encode(e); bytes.append(0x0A) }
        try AtomicFile.write(bytes, to: logPath)
    }

    static func readLog(_ path: String) -> [TrainingLogEntry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return text.split(separator: "\n").compactMap { try? dec.decode(TrainingLogEntry.self, from: Data($0.utf8)) }
    }

    /// `loss.svg` / `loss.png`: total loss and its terms against the step.
    func writePlot() throws {
        let kept = log.filter { !$0.skipped }
        guard kept.count >= 2 else { return }
        let xs = kept.map { Double($0.step) }
        let series: [(String, [Double])] = [("total", kept.map(\.loss)), ("focal", kept.map(\.focal)),
                                            ("2·giou", kept.map { 2 * $0.giou }), ("5·l1", kept.map { 5 * $0.l1 })]
        let top = max(series.flatMap(\.1).filter(\.isFinite).max() ?? 1, 1e-6)
        let plot = LinePlot(title: "\(configuration.name): training loss", xLabel: "step", yLabel: "loss",
                            xRange: xs.first!...max(xs.last!, xs.first! + 1), yRange: 0...top * 1.05,
                            xTicks: Self.ticks(xs.first!, xs.last!), yTicks: Self.ticks(0, top),
                            series: series.map { LinePlot.Series(label: $0.0, xs: xs, ys: $0.1) })
        try PlotFiles.write(plot, svg: directory.pathAppending("loss.svg"))
        let validated = log.filter { $0.validation_auc != nil }
        guard !validated.isEmpty else { return }
        let vx = validated.map { Double($0.step) }
        let lo = vx.first!, hi = max(vx.last!, vx.first! + 1)
        let vplot = LinePlot(title: "\(configuration.name): validation", xLabel: "step", yLabel: "%",
                             xRange: lo...hi, yRange: 0...100, xTicks: Self.ticks(lo, hi), yTicks: Self.ticks(0, 100),
                             series: [LinePlot.Series(label: "AUC", xs: vx, ys: validated.map { $0.validation_auc! }),
                                      LinePlot.Series(label: "precision", xs: vx, ys: validated.map { $0.validation_precision! }),
                                      LinePlot.Series(label: "norm. precision", xs: vx, ys: validated.map { $0.validation_norm_precision! })])
        try PlotFiles.write(vplot, svg: directory.pathAppending("validation.svg"))
    }

    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / 5, p = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? raw
        return stride(from: (lo / step).rounded(.up) * step, through: hi, by: step).map { $0 }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}
