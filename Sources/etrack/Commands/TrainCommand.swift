import ArgumentParser
import ETCore
import ETData
import ETNN
import ETONNX
import ETTraining
import Foundation

/// `etrack train`: the recipe of architecture.md §11 on the user's data, resumable bit-exactly.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model of the EfficientTrack / VitTrack family on annotated videos and images.",
        discussion: """
        DATA is KIND:PATH (repeat --data for several sources): folder (our layout: <name>/img/, groundtruth.txt, \
        optional absent.txt), images (<set>/boxes.csv with image,x,y,w,h), got10k (train split; PATH/exclude.txt \
        lists sequences to skip, e.g. the vot-train exclusion), lasot (every sequence not in testing_set.txt), \
        trackingnet (the TRAIN_n chunks present, or one chunk), coco (annotations/instances_train2017.json; \
        every non-crowd box a still). Pairs: a visible template frame and a visible search frame at most 200 frames later; crops of factor 2 \
        (template) and 4 (search) with the recipe's jitter and colour augmentation. Loss: focal + 2 GIoU + 5 L1 \
        (center head) or 2 GIoU + 5 L1 (corner head). AdamW, clip 0.1, step decay x0.1 at --milestones (with --epochs: at 80% of them).

        OUT gets checkpoint.safetensors (weights, Adam moments, step), model.safetensors (the latest weights, \
        for 'etrack track --model' and 'etrack export'), log.jsonl (one line per batch) and loss.svg/png. \
        --steps is the total the run should reach: '--steps 6 --resume' continues a run stopped at step 3. \
        SIGINT/SIGTERM checkpoint and stop. Resume is bit-exact (with the --threads the run started with).
        """)

    @Option(help: "Configuration name (overrides after '@'), configuration JSON, or WEIGHTS.safetensors (its configuration, starting from its weights).")
    var model: String

    @Option(name: .customLong("data"), help: ArgumentHelp("Training data KIND:PATH (repeatable).", valueName: "KIND:PATH"))
    var data: [String] = []

    @Option(help: ArgumentHelp("Sampling ratio per --data, comma separated (default equal).", valueName: "R1,R2,…"))
    var dataRatios: String?

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Total optimiser steps the run should reach.")
    var steps: Int?

    @Option(help: "Epochs (with --samples-per-epoch) instead of --steps; checkpoints every epoch.")
    var epochs: Int?

    @Option(help: "Samples per epoch (the recipe: 60000).")
    var samplesPerEpoch: Int?

    @Option(help: "Batch size.")
    var batchSize = 32

    @Option(help: "Base learning rate (recipe: 4e-4 center head, 1e-4 VitTrack corner head).")
    var lr = 4e-4

    @Option(help: "Learning-rate multiple of everything but the head (recipe: 0.1 when fine-tuning a pretrained backbone).")
    var backboneLrMult = 1.0

    @Option(help: "AdamW weight decay.")
    var weightDecay = 1e-4

    @Flag(help: "Decay norms, biases and position tables too (as OSTrack's code does).")
    var decayAll = false

    @Option(help: "Gradient-norm clip.")
    var clip = 0.1

    @Option(help: "Linear warm-up steps.")
    var warmup = 0

    @Option(help: ArgumentHelp("Steps where the rate drops x0.1 (default with --epochs: at 80% of the epochs, as the recipe; with --steps: none).", valueName: "S1,S2,…"))
    var milestones: String?

    @Option(help: "Threads: each trains a chunk of the batch (data-parallel, BN statistics per chunk), so a run resumes with the threads it started with.")
    var threads = 1

    @Option(help: "Seed of the initial weights and of the sampler.")
    var seed: UInt64 = 0

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from the tensors of this safetensors file that the model has (partial loads allowed; reported).", valueName: "WEIGHTS"))
    var initial: String?

    @Flag(help: "Continue the run in --out from its checkpoint.")
    var resume = false

    @Option(help: "Checkpoint every this many steps (and every epoch, at the end and on SIGINT/SIGTERM).")
    var checkpointEvery = 100

    @Flag(help: "No augmentation (jitter, brightness, gray, flip): the crops the tracker cuts.")
    var noAugmentation = false

    @Option(help: "Non-finite batches in a row that stop the run.")
    var maxSkipped = 10

    @Option(name: .customLong("validate"), help: ArgumentHelp("Held-out sequences (folder layout) tracked with the weights of the moment; AUC, precision and normalised precision go to log.jsonl and validation.svg.", valueName: "folder:PATH"))
    var validationData: String?

    @Option(help: "Validate every this many steps (default: at every checkpoint) and at the end.")
    var validateEvery: Int?

    @Option(help: .hidden)
    var injectNonFiniteAt: String?

    func validate() throws {
        if data.isEmpty { throw ValidationError("give at least one --data KIND:PATH") }
        if steps == nil && (epochs == nil || samplesPerEpoch == nil) { throw ValidationError("give --steps N, or --epochs E with --samples-per-epoch S") }
        if steps != nil && epochs != nil { throw ValidationError("--steps and --epochs exclude each other") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
        if let validateEvery, validateEvery < 1 { throw ValidationError("--validate-every must be at least 1") }
        if validateEvery != nil && validationData == nil { throw ValidationError("--validate-every needs --validate") }
    }

    func run() throws {
        var configuration = model
        var initialPath = initial
        if model.lowercased().hasSuffix(".safetensors") {
            let file = try SafeTensors(contentsOf: model)
            configuration = ModelExporter.configurationString(try ExportWeights.configuration(for: file, override: nil))
            if initialPath == nil { initialPath = model }
        }
        let config = try ModelRegistry.resolve(configuration)
        let specs = try data.map { try TrainingDataSpec(parsing: $0) }
        let sources = try specs.map { try TrainingSource.load($0) }
        for s in sources {
            FileHandle.standardError.write(Data("data \(s.spec): \(s.videos.count) videos/images, \(s.frameCount) frames\n".utf8))
        }
        // Absolute paths with symlinks resolved in the run's settings, so a resume from another
        // directory, or through another link to the same data, is the same run.
        let absolute = specs.map { TrainingDataSpec(kind: $0.kind, path: URL(fileURLWithPath: $0.path).standardizedFileURL.resolvingSymlinksInPath().path) }
        var settings = TrainingSettings(configuration: configuration, data: absolute.map(\.description))
        settings.ratios = try dataRatios.map { try Self.numbers($0, "--data-ratios") }
        settings.batchSize = batchSize
        settings.learningRate = lr
        settings.backboneMultiplier = backboneLrMult
        settings.weightDecay = weightDecay
        settings.decayAll = decayAll
        settings.clipNorm = clip
        settings.warmupSteps = warmup
        settings.milestones = try milestones.map { try Self.numbers($0, "--milestones").map { Int($0) } } ?? []
        settings.seed = seed
        settings.maxSkippedInRow = maxSkipped
        settings.replicas = threads > 1 ? threads : nil
        if noAugmentation { settings.augmentation = .none }
        let total: Int, every: Int
        if let steps { total = steps; every = checkpointEvery } else {
            let perEpoch = max(1, samplesPerEpoch! / batchSize)
            total = perEpoch * epochs!
            every = min(checkpointEvery, perEpoch)
            if milestones == nil { settings.milestones = [perEpoch * (epochs! * 4 / 5)] }
        }
        var start: [Float]?
        if let initialPath, !resume {
            let base = try RandomWeights.model(config, seed: seed).parameters
            let (values, report) = try InitialWeights.load(initialPath, table: ParameterTable(config), base: base)
            FileHandle.standardError.write(Data("--init \(initialPath): \(report.summary)\n".utf8))
            start = values
        }
        let trainer = try Trainer(settings: settings, sources: sources, directory: out, totalSteps: total,
                                  resume: resume, initial: start)
        trainer.checkpointEvery = every
        if let validationData {
            let v = try TrainingValidation(spec: validationData)
            // A training sequence among the validation ones would flatter the numbers: say so.
            let trainingNames = Set(sources.flatMap { $0.videos.map(\.name) })
            let shared = v.sequences.map(\.name).filter { trainingNames.contains($0) }
            if !shared.isEmpty {
                FileHandle.standardError.write(Data("warning: --validate shares \(shared.count) sequence(s) with --data (\(shared.prefix(3).joined(separator: ", "))); the validation numbers are not held-out\n".utf8))
            }
            FileHandle.standardError.write(Data("validate \(validationData): \(v.sequences.count) sequences, \(v.frameCount) frames, every \(validateEvery ?? every) steps\n".utf8))
            trainer.validation = v
            trainer.validateEvery = validateEvery ?? every
        }
        if let injectNonFiniteAt { trainer.injectNonFiniteAt = Set(try Self.numbers(injectNonFiniteAt, "--inject-non-finite-at").map { Int($0) }) }
        let interrupt = InterruptFlag()
        trainer.shouldStop = { interrupt.signalName != nil }
        trainer.progress = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        FileHandle.standardError.write(Data("train \(config.name): \(trainer.network.parameterCount) values, batch \(batchSize), steps \(trainer.step) → \(total), \(threads) thread(s)\n".utf8))
        try trainer.run()
        if let name = interrupt.signalName {
            print("stopped by \(name) at step \(trainer.step); checkpoint written to \(trainer.checkpointPath) (continue with --resume)")
            throw ExitCode(130)
        }
        print("trained \(config.name) to step \(trainer.step); weights in \(trainer.modelPath)")
    }

    static func numbers(_ text: String, _ option: String) throws -> [Double] {
        let parts = text.split(separator: ",")
        let v = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard v.count == parts.count, !v.isEmpty else { throw ValidationError("\(option) \(text): give comma-separated numbers") }
        return v
    }
}
