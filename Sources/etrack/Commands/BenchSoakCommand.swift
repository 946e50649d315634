import ETData
import ArgumentParser
import ETCore
import ETEvaluation
import ETImage
import ETTracking
import Foundation

/// `etrack bench soak`: a long run per model with resident memory sampled (Soak in ETEvaluation).
struct BenchSoak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Track for many frames with resident memory sampled, then re-initialise many times: is memory flat?",
        discussion: "Exit status 1 when memory grows by more than --allowed-growth MB after warm-up (the first tenth of the frames, at least 200) or over the cycles.")

    @Option(help: "Models (anything `etrack track --model` takes), comma separated.")
    var models: String

    @Option(help: "A sequence folder whose frames are played back and forth.")
    var sequence: String

    @Option(help: "Frames per model.")
    var frames: Int = 10_000

    @Option(help: "Initialise/update cycles after the frames (3 updates each).")
    var cycles: Int = 1_000

    @Option(name: .customLong("allowed-growth"), help: "MB that memory may grow after warm-up.")
    var allowedGrowth: Double = 4

    @Option(help: "Write the results (with every sample) here as JSON.")
    var json: String?

    @Option(help: "Write the memory curves here (.svg, and a .png beside it).")
    var plot: String?

    func validate() throws {
        guard frames >= 400 else { throw ValidationError("--frames must be at least 400 (200 of them are warm-up)") }
        guard cycles >= 0 else { throw ValidationError("--cycles must be >= 0") }
    }

    func run() throws {
        let seq = try FolderDataset.loadSequence(at: sequence)
        let images = try seq.framePaths.map { try ImageIO.read(path: $0) }
        guard images.count >= 4, let box = seq.initialBox else { throw ValidationError("\(sequence): needs at least 4 frames and a first box") }
        var results: [Soak.Result] = []
        print("model                 frames  fps     warm MB  end MB  peak MB  MB/1k frames  cycles  cycle MB start→end  flat")
        for model in models.split(separator: ",").map(String.init) {
            let tracker = try TrackerLoader.load(model: model, options: TrackerOptions(threads: 1))()
            let progress = ProgressLine(enabled: true)
            let r = try Soak.run(model: model.pathLastComponent, tracker: tracker, frames: images, initBox: box, totalFrames: frames,
                                 cycles: cycles, allowedGrowthMB: allowedGrowth) { k, n in progress.show("\(model): \(k)/\(n) frames") }
            progress.finish()
            results.append(r)
            print(r.model.padding(toLength: max(20, r.model.count), withPad: " ", startingAt: 0) + String(format: " %7d %7.1f %8.1f %7.1f %8.1f %13.3f %7d %9.1f → %-8.1f %@", r.frames, r.framesPerSecond,
                         r.rssAfterWarmupMB, r.rssEndMB, r.peakRssMB, r.slopeMBPer1000Frames, r.cycles, r.rssCyclesStartMB, r.rssCyclesEndMB,
                         (r.flat ? "yes" : "NO") as NSString))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write([UInt8](try encoder.encode(results)), to: json)
        }
        if let plot { try PlotFiles.write(Soak.plot(results), svg: plot) }
        if results.contains(where: { !$0.flat }) { throw ExitCode(1) }
    }
}
