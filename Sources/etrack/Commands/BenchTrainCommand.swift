import ArgumentParser
import ETCore
import ETNN
import ETTraining
import Foundation

/// `etrack bench train`: seconds per training step, samples/s and peak memory per thread count.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training-step speed: forward, loss, backward, clip and AdamW at batch B, per thread count.",
        discussion: """
        The step of 'etrack train' on seeded random crops and targets (no data loading). Each thread count \
        runs in its own process, so peak_rss_mb is that run's own. scripts/bench/train_step.sh times the \
        same step in PyTorch beside it (scripts/bench/train_step_torch.py, our own PyTorch definition of \
        the model) and prints the ratios.
        """)

    @Option(help: "Configuration name (overrides after '@') or JSON.")
    var model = "et-128-fgaf3-bn"

    @Option(help: "Batch size.")
    var batchSize = 32

    @Option(help: ArgumentHelp("Thread counts, comma separated.", valueName: "T1,T2,…"))
    var threads = "1,2"

    @Option(help: "Timed steps (after one warm-up step).")
    var steps = 5

    @Option(help: "Write the results as a JSON list here.")
    var json: String?

    @Flag(help: "Also time each layer group (stem, sub-layer kinds, head towers), forward and backward.")
    var profile = false

    @Flag(help: .hidden)
    var single = false

    func run() throws {
        let config = try ModelRegistry.resolve(model)
        let counts = threads.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads \(threads): give thread counts ≥ 1") }
        if single {
            let r = try TrainingBenchmark.run(config, batch: batchSize, threads: counts[0], steps: steps, profile: profile)
            let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
            print(String(decoding: try e.encode(r), as: UTF8.self))
            return
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var results: [TrainingBenchmark.Result] = []
        print("bench train \(config.name): batch \(batchSize), \(steps) timed steps, \(cores) core(s)")
        for t in counts {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0]
                                  : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0])
            p.arguments = ["bench", "train", "--model", model, "--batch-size", "\(batchSize)", "--threads", "\(t)", "--steps", "\(steps)", "--single"] + (profile ? ["--profile"] : [])
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
                  let r = try? JSONDecoder().decode(TrainingBenchmark.Result.self, from: Data(line.utf8)) else {
                throw ValidationError("the \(t)-thread run failed (exit \(p.terminationStatus))")
            }
            results.append(r)
            let ph = ["forward+loss+backward", "optimizer"].map { String(format: "%@ %.3f", $0, r.phases[$0] ?? .nan) }.joined(separator: ", ")
            print(String(format: "threads %d%@: %.3f s/step, %.1f samples/s, peak %.0f MB (%@)", t, t > cores ? " (more than the cores)" : "",
                         r.step_s, r.samples_per_s, r.peak_rss_mb, ph))
            if let layers = r.layers {
                for (name, s) in layers.sorted(by: { $0.value > $1.value }) {
                    print("    " + name.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%7.3f s/step  %4.1f%%", s, 100 * s / r.step_s))
                }
            }
        }
        if let json {
            let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .prettyPrinted]
            try AtomicFile.write(Array(try e.encode(results)), to: json)
        }
    }
}
